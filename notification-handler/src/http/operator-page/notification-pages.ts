import { OPERATIONS, refuseNonSingleLine } from '@notify/shared';
import { AppError, parseRequest } from '@notify/shared/platform';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDependencies } from '../../app.js';
import { findNotification, InvalidCursorError, listNotifications, STATUSES } from '../../db/notification-queries.js';
import { findStoredRequest } from '../../db/operator-queries.js';
import { findReplayCandidate } from '../../db/replay-queries.js';
import { layoutFor } from './layout-for.js';
import { renderNotification } from './notification-detail-view.js';
import { renderNotificationList } from './notification-list-view.js';

const PAGE_SIZE = 50;
const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema.optional());

export const ListQuery = z.object({
  status: optional(z.enum(STATUSES)),
  operation: optional(z.enum(OPERATIONS)),
  trackingId: optional(z.uuid()),
  email: optional(z.string().trim().max(254).superRefine(refuseNonSingleLine)),
  cursor: optional(z.string().max(200)),
  // What a bulk replay reports back after its redirect.
  queued: optional(z.string().regex(/^\d+$/)),
  notQueued: optional(z.string().regex(/^\d+$/)),
  invalid: optional(z.string().regex(/^\d+$/)),
  more: optional(z.enum(['true', 'false'])),
});
const TrackingIdParams = z.object({ trackingId: z.uuid() });

export function notificationPages({ db, operator, replay }: AppDependencies): Router {
  const router = Router();

  router.get('/operator/notifications', async (req, res) => {
    const { cursor, queued, notQueued, invalid, more, ...filters } = parseRequest(ListQuery, req.query, 'query');
    const page = await listNotifications(db, { ...filters, cursor, limit: PAGE_SIZE }).catch((error: unknown) => {
      if (error instanceof InvalidCursorError) throw new AppError(400, 'validation_failed', error.message);
      throw error;
    });
    const done =
      queued !== undefined
        ? { queued, notQueued: notQueued ?? '0', invalid: invalid ?? '0', more: more ?? 'false' }
        : undefined;
    layoutFor(res, operator.access).send(200, 'Notifications', renderNotificationList(page, filters, done));
  });

  router.get('/operator/notifications/:trackingId', async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const [notification, request, candidate] = await Promise.all([
      findNotification(db, trackingId),
      findStoredRequest(db, trackingId),
      findReplayCandidate(db, trackingId, replay.pendingForMs),
    ]);
    if (!notification) throw new AppError(404, 'not_found', `no notification ${trackingId}`);
    const justQueued = req.query.replay === 'queued';
    layoutFor(res, operator.access).send(
      200,
      'Notification',
      renderNotification(notification, request, { justQueued, candidate: candidate.kind }),
    );
  });

  return router;
}
