import {
  errorHandler,
  type Logger,
  measureRequests,
  metricsRoutes,
  notFound,
  rejectWhileDraining,
  requestLogger,
} from '@notify/shared/platform';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Queryable } from './db/notification-repository.js';
import type { BreakerState } from './domain/email-provider.js';
import type { ReplayDeps } from './domain/replay-notification.js';
import { healthRoutes } from './http/health-routes.js';
import { notificationRoutes } from './http/notification-routes.js';
import { guardApi } from './http/operator-auth/operator-guards.js';
import { limitWrongTokens } from './http/operator-auth/wrong-token-limit.js';
import type { OperatorDependencies } from './http/operator-page/operator-dependencies.js';
import { operatorPageRoutes } from './http/operator-page/page-routes.js';

export type AppDependencies = {
  db: Queryable;
  /** Resolves when the database takes the handler's writes (what resumes consumption after an outage). */
  probeDatabase: () => Promise<void>;
  /** The consumer's channel (consuming, or paused on purpose) and the publisher's are open. */
  isConnected: () => boolean;
  /** The stop has begun: readiness fails, so that traffic goes elsewhere; the rest still answers. */
  isDraining: () => boolean;
  /** The HTTP server is closing: a request still arriving on an open keep-alive connection gets a 503. */
  isClosing: () => boolean;
  /** What the health answer shows: the provider's breaker, and why consumption is paused. */
  describeHealth: () => { breaker: Record<string, BreakerState>; pausedBy: string[] };
  /** What the single and bulk replays need: the database, the requeue, and how long a replay stays pending. */
  replay: ReplayDeps;
  log: Logger;
  /** The handler's metrics registry: request durations go in, `GET /metrics` reads it out. */
  metrics: Registry;
  /** The operator token's guard, and what the operator page reads from the broker and the ticketing service. */
  operator: OperatorDependencies;
  /** TRUST_PROXY: the reverse proxies whose X-Forwarded-For names the client; absent: none. */
  trustProxy?: number | string[] | undefined;
};

/**
 * The HTTP side: status API, replay, the operator page, health and metrics. Never listens; main.ts
 * does. The probes and /metrics stay open; /notifications* and the page need the operator token
 * (when one is set).
 */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy every client would share its address, and one guesser would use up the
  // wrong-token limit of all of them.
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  app.use(measureRequests(deps.metrics));
  app.use(requestLogger(deps.log));
  app.use(rejectWhileDraining(deps.isClosing));
  app.use(express.json({ limit: '16kb' }));
  app.use(healthRoutes(deps));
  app.use(metricsRoutes(deps.metrics));
  app.use(limitWrongTokens(deps.operator.access, deps.operator.wrongTokenLimit, deps.log));
  app.use(operatorPageRoutes(deps));
  app.use('/notifications', guardApi(deps.operator.access));
  app.use(notificationRoutes(deps));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
