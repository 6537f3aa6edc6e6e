import {
  errorHandler,
  type InFlight,
  type Logger,
  measureRequests,
  metricsRoutes,
  notFound,
  refuseNonJsonBodies,
  rejectWhileDraining,
  requestLogger,
  traceRequests,
} from '@notify/shared/platform';
import express, { type Express } from 'express';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { CartCache } from './domain/cart-cache.js';
import type { GatheredCartWrites } from './domain/cart-writes.js';
import type { OutboxTarget } from './domain/notifications.js';
import { cartRoutes } from './http/cart-routes.js';
import { catalogRoutes } from './http/catalog-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { type Shedding, shedWhenQueued } from './http/load-shedding.js';

export type AppDependencies = {
  log: Logger;
  pool: pg.Pool;
  /** Where this instance's notifications are addressed. */
  outbox: OutboxTarget;
  /** The carts this instance wrote last, so that a command on one need not read it first. */
  carts: CartCache;
  /** Wakes the relay after a commit that wrote outbox rows. */
  onCommitted: () => void;
  brokerReady: () => boolean;
  isDraining: () => boolean;
  /** The service's metrics registry: request durations go in, `GET /metrics` reads it out. */
  metrics: Registry;
  /** An Idempotency-Key older than this is a new key. */
  idempotencyKeyTtlHours: number;
  /** What /readyz asks: a small pool of its own with short timeouts (see check-readiness.ts). */
  probePool: pg.Pool;
  /** How commands without an Idempotency-Key write: gathered with concurrent ones, on `pool`. */
  writes: GatheredCartWrites;
  /** Requests waiting for the database (`pool`'s connections, `writes`' statements) past which the next ones are refused (503). */
  shedding: Shedding;
  /** The commands under way, which a stop waits for after the server closed. */
  inFlight: InFlight;
};

const MAX_BODY = '16kb';

/** The HTTP API, ready to mount or listen: it opens nothing itself. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every answer for an ETag by default: a command's answer is never cached, and
  // a conditional GET of a cart would save a client less than the hash costs every request
  // (npm run bench:http).
  app.set('etag', false);
  app.use(measureRequests(deps.metrics));
  // Before the request logger, so that its lines carry the trace id.
  app.use(traceRequests());
  app.use(requestLogger(deps.log));
  app.use(rejectWhileDraining(deps.isDraining));
  app.use(express.json({ limit: MAX_BODY }));
  app.use(refuseNonJsonBodies());
  app.use(healthRoutes({ probePool: deps.probePool, brokerReady: deps.brokerReady }));
  app.use(metricsRoutes(deps.metrics));
  // After the probes and metrics, which must answer however busy the API is.
  app.use(shedWhenQueued(deps.shedding));
  app.use(catalogRoutes(deps));
  app.use(cartRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
