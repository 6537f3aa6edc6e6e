import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from './logger.js';
import { requestTrace } from './request-trace.js';

/** Probes and scrapes come every few seconds: a line each would drown the requests that matter. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One line per request: method, path, status and time, and the trace id when `traceRequests`
 * ran first. Never bodies, never headers.
 */
export function requestLogger(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log,
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // A 4xx is the client's mistake, already answered: worth a line, not an alarm.
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    // Called as the request starts, so req.log (errors included) carries the trace id too.
    customProps: (_req, res) => {
      const trace = requestTrace(res as Parameters<typeof requestTrace>[0]);
      return trace ? { traceId: trace.traceId } : {};
    },
    autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url ?? '') },
  });
}
