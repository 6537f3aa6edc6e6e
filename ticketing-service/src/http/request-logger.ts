import type { Logger } from '@notify/shared/platform';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';

/** One line per request: method, path, status and time. Never bodies, never headers. */
export function requestLogger(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log,
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
  });
}
