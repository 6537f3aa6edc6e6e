import { AppError, parseRequest } from '@notify/shared/platform';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDependencies } from '../app.js';
import { findNotification, InvalidCursorError, listNotifications } from '../db/notification-queries.js';
import { replayNotification } from '../domain/replay-notification.js';

const TrackingIdParams = z.object({ trackingId: z.uuid() });
const ListQuery = z.object({
  status: z.enum(['in_progress', 'sent', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export function notificationRoutes({ db, publish }: AppDependencies): Router {
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

  router.post('/notifications/:trackingId/retry', async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const outcome = await replayNotification(trackingId, { db, publish });
    if (outcome.kind === 'not_found') throw new AppError(404, 'not_found', `no notification ${trackingId}`);
    if (outcome.kind === 'not_failed')
      throw new AppError(409, 'not_failed', `notification ${trackingId} is ${outcome.status}; only failed ones replay`);
    res.status(202).json({ trackingId, status: 'in_progress' });
  });

  return router;
}
