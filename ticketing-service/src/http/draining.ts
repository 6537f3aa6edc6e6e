import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AppError } from '@notify/shared/platform';
import type { RequestHandler } from 'express';

/**
 * While the server drains for shutdown, requests that still arrive on open keep-alive connections
 * get a 503 and a closed connection, so that clients retry elsewhere.
 */
export function rejectWhileDraining(isDraining: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (!isDraining()) return next();
    res.set('Connection', 'close');
    next(new AppError(503, 'shutting_down', 'the service is shutting down; retry'));
  };
}

/**
 * `server.close()` drops only the connections idle at that moment; a keep-alive connection that
 * was busy stays open after its response until the client gives up on it. While draining, close
 * each one as soon as its last response has gone out.
 */
export function closeConnectionsAfterResponse(server: Server, isDraining: () => boolean): void {
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      if (isDraining()) setImmediate(() => server.closeIdleConnections());
    });
  });
}
