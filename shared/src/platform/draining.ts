import type { RequestHandler } from 'express';
import { AppError } from './http.js';

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
