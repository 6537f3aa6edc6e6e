import { AppError } from '@notify/shared/platform';
import type { RequestHandler } from 'express';

/**
 * Past capacity, requests queue for the database (for a connection, or for their write's statement), and each one queued makes every later
 * one wait longer: the latency of what is accepted grows without bound while clients hold their
 * connections open. Refusing at once a request that would wait behind `maxWaiting` others bounds
 * that wait, and the 503 (with Retry-After, from the error handler) tells the client to come back
 * or go to another instance. Nothing is lost: a refused request wrote nothing.
 */
export type Shedding = {
  maxWaiting: number;
  onShed: () => void;
  /** Requests waiting for a connection or for the statement that writes them with others. */
  waitingForDatabase: () => number;
};

export function shedWhenQueued({ maxWaiting, onShed, waitingForDatabase }: Shedding): RequestHandler {
  return (_req, _res, next) => {
    if (waitingForDatabase() < maxWaiting) return next();
    onShed();
    next(new AppError(503, 'overloaded', 'too many requests are waiting for the database; retry shortly'));
  };
}
