import type { Request, RequestHandler } from 'express';
import { Router } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The `route` label of a request no route matched (404s, bodies refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * A registry of the service's own, with Node's process metrics (CPU, memory, event loop, GC).
 * Never prom-client's global default registry: two services started in one test process would
 * register the same names twice there.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Times every request into `http_request_duration_seconds{method,route,status_code}`. `route` is
 * the matched route's template (`/carts/:cartId/tickets`), never the raw path: one series per
 * route, not one per cart id. Mount it first, so that it sees every answer, refusals included.
 */
export function measureRequests(registry: Registry): RequestHandler {
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request arriving to its response being sent, by route template.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  return (req, res, next) => {
    const stop = durations.startTimer();
    // 'close' also comes for a client that went away before the answer was sent.
    res.once('close', () => {
      stop({ method: req.method, route: routeTemplate(req), status_code: String(res.statusCode) });
    });
    next();
  };
}

/** `GET /metrics` in Prometheus' text format. Open, like the health routes: it holds no personal data. */
export function metricsRoutes(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}

function routeTemplate(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : UNMATCHED_ROUTE;
}
