import { OPERATIONS, refuseNonSingleLine } from '@notify/shared';
import { AppError, parseRequest, refuseNonJsonBodies } from '@notify/shared/platform';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDependencies } from '../app.js';
import { findNotification, InvalidCursorError, listNotifications, STATUSES } from '../db/notification-queries.js';
import { REPLAYABLE_STATUSES } from '../db/replay-queries.js';
import { ReplayNotQueuedError, replayNotification, replayRange } from '../domain/replay-notification.js';
import { replayRefusal } from './replay-refusal.js';

const TrackingIdParams = z.object({ trackingId: z.uuid() });
const ListQuery = z.object({
  status: z.enum(STATUSES).optional(),
  operation: z.enum(OPERATIONS).optional(),
  trackingId: z.uuid().optional(),
  email: z.string().trim().min(1).max(254).superRefine(refuseNonSingleLine).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
// Strict: a misspelt field (`stauts`) read as absent would replay with its default, `failed`.
const BulkReplayBody = z
  .strictObject({
    status: z.enum(REPLAYABLE_STATUSES).default('failed'),
    from: z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
    to: z.iso
      .datetime({ offset: true })
      .optional()
      .transform((value) => (value ? new Date(value) : undefined)),
    limit: z.number().int().min(1).max(1_000).default(100),
  })
  // Without `to` the range ends now: a `from` in the future is then the field at fault.
  .superRefine((body, context) => {
    if (body.from < (body.to ?? new Date())) return;
    if (body.to) context.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else context.addIssue({ code: 'custom', path: ['from'], message: 'must be in the past (to defaults to now)' });
  })
  .transform((body) => ({ ...body, to: body.to ?? new Date() }));

export function notificationRoutes({ db, replay }: AppDependencies): Router {
  const router = Router();

  router.get('/notifications/:trackingId', async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const notification = await findNotification(db, trackingId);
    if (!notification) throw new AppError(404, 'not_found', `no notification ${trackingId}`);
    res.json(notification);
  });

  router.get('/notifications', async (req, res) => {
    const query = parseRequest(ListQuery, req.query, 'query');
    try {
      res.json(await listNotifications(db, query));
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new AppError(400, 'validation_failed', error.message);
      throw error;
    }
  });

  // The one route with a body. With the bearer token a form passes the guard; unread, it answered
  // 400 about a missing `from` that the form did carry: the media type is what is wrong.
  router.post('/notifications/retry', refuseNonJsonBodies(), async (req, res) => {
    const range = parseRequest(BulkReplayBody, req.body ?? {}, 'body');
    res.status(202).json(await withBroker(() => replayRange(range, replay)));
  });

  router.post('/notifications/:trackingId/retry', async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const outcome = await withBroker(() => replayNotification(trackingId, replay));
    if (outcome.kind !== 'queued') throw replayRefusal(trackingId, outcome);
    res.status(202).json({ trackingId, replay: 'queued' });
  });

  return router;
}

async function withBroker<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ReplayNotQueuedError) throw new AppError(503, 'broker_unavailable', error.message);
    throw error;
  }
}
