import { AppError } from '@notify/shared/platform';
import type { RequestHandler } from 'express';
import type pg from 'pg';

/**
 * Past capacity, requests queue for a database connection, and each one queued makes every later
 * one wait longer: the latency of what is accepted grows without bound while clients hold their
 * connections open. Refusing at once a request that would wait behind `maxWaiting` others bounds
 * that wait, and the 503 (with Retry-After, from the error handler) tells the client to come back
 * or go to another instance. Nothing is lost: a refused request wrote nothing.
 */
export function shedWhenQueued(
  pool: Pick<pg.Pool, 'waitingCount'>,
  { maxWaiting, onShed }: { maxWaiting: number; onShed: () => void },
): RequestHandler {
  return (_req, _res, next) => {
    if (pool.waitingCount < maxWaiting) return next();
    onShed();
    next(new AppError(503, 'overloaded', 'too many requests are waiting for the database; retry shortly'));
  };
}
