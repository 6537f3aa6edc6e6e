import type { RequestHandler, Response } from 'express';
import { continueTrace, type TraceContext } from './trace-context.js';

/**
 * Gives each request its trace context, from its `traceparent` header or a new trace. Mount it
 * before the request logger, which puts the trace id on every line of the request.
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    res.locals.trace = continueTrace(req.headers.traceparent);
    next();
  };
}

/** The request's trace context, when `traceRequests` ran for it. */
export function requestTrace(res: Pick<Response, 'locals'>): TraceContext | undefined {
  return res.locals?.trace as TraceContext | undefined;
}
