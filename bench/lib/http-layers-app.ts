import { createServer, type IncomingMessage, type Server } from 'node:http';
import {
  createExpressServer,
  createLogger,
  errorHandler,
  measureRequests,
  metricsRoutes,
  notFound,
  parseRequest,
  rejectWhileDraining,
  requestLogger,
  traceRequests,
} from '@notify/shared/platform';
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import { Registry } from 'prom-client';
import { shedWhenQueued } from '../../ticketing-service/src/http/load-shedding.js';
import { AddTicketBody, CartParams, CreateCartBody } from '../../ticketing-service/src/http/request-schemas.js';

/**
 * The ticketing API's HTTP stack, one layer more in each, with canned answers instead of the
 * database: what each layer costs per request is the difference between neighbours.
 */
export const LAYERS = [
  { name: 'node:http', adds: 'the body read and JSON.parse by hand, a JSON answer' },
  { name: 'express', adds: "Express's router and res.status().json(), the body still read by hand" },
  { name: 'express.json()', adds: 'body-parser instead of the hand-read body' },
  {
    name: 'platform middleware',
    adds: 'request metrics, trace context, request log (level warn), draining and shedding checks, /metrics router',
  },
  { name: 'zod request schemas', adds: "parseRequest of the routes' params and bodies" },
  { name: 'ETag off', adds: "app.set('etag', false), as the API has it: no hash of each answer" },
  {
    name: 'createExpressServer',
    adds: "requests and responses born with Express's prototypes, as the services listen: none swapped per request",
  },
  {
    name: 'request lines at info',
    adds: "the request log at the services' default level: a JSON line per request, written to stdout",
  },
] as const;

/** About the size and shape of the API's answers (a cart with one line and its notification). */
const ANSWER = {
  cartId: '01a23249-5c51-716f-9a6a-e63a43d1e516',
  customer: { email: 'bench-1@example.com', name: 'Bench Customer 1' },
  status: 'open',
  lines: [
    {
      ticketTypeId: '01a23249-5c51-716f-9a6a-e63a43d1e518',
      eventName: 'Bench Event',
      ticketTypeName: 'Standard',
      quantity: 2,
      unitPrice: { amountMinor: 4_500, currency: 'EUR' },
    },
  ],
  total: { amountMinor: 9_000, currency: 'EUR' },
  notification: { trackingId: '01a23249-5c51-716f-9a6a-e63a43d1e517' },
};

/** The routes of the checkout flow, answering ANSWER; with `validate`, after the API's own checks. */
function cartRoutes(validate: boolean): Router {
  const router = Router();
  const answer = (check: (req: Request) => void) => (req: Request, res: Response) => {
    if (validate) check(req);
    res.status(201).json(ANSWER);
  };
  router.post(
    '/carts',
    answer((req) => parseRequest(CreateCartBody, req.body, 'body')),
  );
  router.post(
    '/carts/:cartId/tickets',
    answer((req) => {
      parseRequest(CartParams, req.params, 'params');
      parseRequest(AddTicketBody, req.body, 'body');
    }),
  );
  router.post(
    '/carts/:cartId/checkout',
    answer((req) => parseRequest(CartParams, req.params, 'params')),
  );
  return router;
}

const readJsonByHand: RequestHandler = (req, _res, next) => {
  readBody(req).then((body) => {
    req.body = body;
    next();
  }, next);
};

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The stack with the first `layers` entries of LAYERS (1 to LAYERS.length). */
export function layeredServer(layers: number): Server {
  if (layers <= 1) {
    return createServer((req, res) => {
      readBody(req).then(() => {
        const body = JSON.stringify(ANSWER);
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, res.destroy.bind(res));
    });
  }
  const app = express();
  app.disable('x-powered-by');
  if (layers >= 6) app.set('etag', false);
  const log = createLogger({ name: 'bench-http-layers', level: layers >= 8 ? 'info' : 'warn', format: 'json' });
  const metrics = new Registry();
  if (layers >= 4) {
    app.use(measureRequests(metrics));
    app.use(traceRequests());
    app.use(requestLogger(log));
    app.use(rejectWhileDraining(() => false));
  }
  app.use(layers >= 3 ? express.json({ limit: '16kb' }) : readJsonByHand);
  if (layers >= 4) {
    app.use(metricsRoutes(metrics));
    app.use(shedWhenQueued({ maxWaiting: 500, onShed: () => undefined, waitingForDatabase: () => 0 }));
  }
  app.use(cartRoutes(layers >= 5));
  app.use(notFound);
  app.use(errorHandler(log));
  return layers >= 7 ? createExpressServer(app) : createServer(app);
}
