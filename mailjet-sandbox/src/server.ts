import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerError } from './http-answers.js';
import type { MessageStore } from './message-store.js';
import type { ProviderFaults } from './provider-faults.js';
import {
  clearFaults,
  clearMessages,
  contentTypeProblem,
  listMessages,
  resetStats,
  setFaults,
  showFaults,
  showInbox,
  showStats,
  showTally,
} from './sandbox-api.js';
import { createSendEndpoint, type SendDependencies } from './send-endpoint.js';
import type { ProviderStats } from './send-stats.js';
import { createSendGridEndpoint, SENDGRID_SEND_PATH, type SendGridDependencies } from './sendgrid-endpoint.js';

export const SEND_PATH = '/v3.1/send';

type Shared = 'faults' | 'stats' | 'store' | 'hung';

/** Both endpoints share the store; each provider has its own faults, counters and credentials. */
export type SandboxDependencies = {
  store: MessageStore;
  faults: ProviderFaults;
  stats: ProviderStats;
  hung: Set<Socket>;
  mailjet: Omit<SendDependencies, Shared>;
  sendgrid: Omit<SendGridDependencies, Shared>;
};

/** `search` is the raw query (`?a=1` or ''): only the handlers that read it pay for parsing it. */
type Handler = (req: IncomingMessage, res: ServerResponse, search: string) => void | Promise<void>;
type Routes = Record<string, Partial<Record<string, Handler>>>;

/**
 * Routes on the pathname of the request target, whether it is origin-form (`/v3.1/send`) or
 * absolute-form (`https://api.mailjet.com/v3.1/send`): node-mailjet configured with a proxy sends
 * the latter, and that is one of the two ways to point it at plain HTTP. SendGrid's client takes a
 * base URL, so `/v3/mail/send` comes origin-form.
 */
export function createSandboxServer(deps: SandboxDependencies): Server {
  const { store, faults, stats, hung } = deps;
  const query = (search: string) => new URLSearchParams(search);
  const routes: Routes = {
    [SEND_PATH]: {
      POST: createSendEndpoint({
        ...deps.mailjet,
        store,
        hung,
        faults: faults.of('mailjet'),
        stats: stats.of('mailjet'),
      }),
    },
    [SENDGRID_SEND_PATH]: {
      POST: createSendGridEndpoint({
        ...deps.sendgrid,
        store,
        hung,
        faults: faults.of('sendgrid'),
        stats: stats.of('sendgrid'),
      }),
    },
    '/': { GET: (_req, res, search) => showInbox(res, query(search), store) },
    '/sandbox/messages': {
      GET: (_req, res, search) => listMessages(res, query(search), store),
      DELETE: jsonOnly((_req, res) => clearMessages(res, store)),
    },
    '/sandbox/tally': { GET: (_req, res) => showTally(res, store) },
    '/sandbox/faults': {
      GET: (_req, res, search) => showFaults(res, query(search), faults),
      POST: jsonOnly((req, res) => setFaults(req, res, faults)),
      DELETE: jsonOnly((_req, res, search) => clearFaults(res, query(search), faults)),
    },
    '/sandbox/stats': {
      GET: (_req, res, search) => showStats(res, query(search), stats),
      DELETE: jsonOnly((_req, res, search) => resetStats(res, query(search), stats)),
    },
    '/sandbox/health': { GET: (_req, res) => answerHealth(res) },
  };
  // Longer than any client's idle timeout (Node's agents use 5 s), so the client always closes an
  // idle keep-alive connection first and never reuses one the server is closing.
  return createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    dispatch(routes, req, res).catch((error: unknown) => {
      console.error('mailjet-sandbox: request failed', error);
      if (!res.headersSent) answerError(res, 500, 'internal', 'internal error');
      else res.destroy();
    });
  });
}

async function dispatch(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = splitTarget(req.url ?? '/');
  if (target === undefined) return answerError(res, 400, 'bad_request_target', 'request target is not a URL');
  const route = routes[target.pathname];
  if (route === undefined) return answerError(res, 404, 'not_found', `no route for ${req.method} ${target.pathname}`);
  const handler = route[req.method ?? 'GET'];
  if (handler === undefined) {
    res.setHeader('Allow', Object.keys(route).join(', '));
    return answerError(res, 405, 'method_not_allowed', `${req.method} is not allowed on ${target.pathname}`);
  }
  await handler(req, res, target.search);
}

/** For the routes that change the sandbox's state: a web page must not be able to drive them. */
function jsonOnly(handler: Handler): Handler {
  return (req, res, search) => {
    const problem = contentTypeProblem(req);
    if (problem === undefined) return handler(req, res, search);
    answerError(res, 415, 'unsupported_media_type', problem);
  };
}

export function splitTarget(target: string): { pathname: string; search: string } | undefined {
  if (target.startsWith('/')) {
    const question = target.indexOf('?');
    return question < 0
      ? { pathname: target, search: '' }
      : { pathname: target.slice(0, question), search: target.slice(question) };
  }
  if (!URL.canParse(target)) return undefined;
  const { pathname, search } = new URL(target);
  return { pathname, search };
}

function answerHealth(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
}
