import { newTraceContext, requestTrace } from '@notify/shared/platform';
import type { Request, Response } from 'express';
import type { CommandRequest } from '../domain/run-command.js';
import { idempotencyOf } from './idempotency-key.js';

/** The request's Idempotency-Key and trace context, as a command takes them. */
export function commandRequest(req: Request, res: Response): CommandRequest {
  // traceRequests() gives every request a trace; a new one covers an app mounted without it.
  return { idempotency: idempotencyOf(req), trace: requestTrace(res) ?? newTraceContext() };
}
