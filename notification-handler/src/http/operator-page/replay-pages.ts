import { AppError, parseRequest } from '@notify/shared/platform';
import { Router } from 'express';
import { z } from 'zod';
import type { AppDependencies } from '../../app.js';
import { findNotification } from '../../db/notification-queries.js';
import { findReplayCandidate } from '../../db/replay-queries.js';
import { ReplayNotQueuedError, replayNotification, replayRange } from '../../domain/replay-notification.js';
import { guardPageForm } from '../operator-auth/operator-guards.js';
import { replayRefusal } from '../replay-refusal.js';
import { sendConfirmation } from './confirm-view.js';
import { when } from './format.js';
import { href, html } from './html.js';
import { layoutFor } from './layout-for.js';

/** Notifications one bulk replay queues at most; the page says when more remain. */
const BULK_LIMIT = 100;

const TrackingIdParams = z.object({ trackingId: z.uuid() });
const Since = z.object({
  since: z.iso
    .datetime({ offset: true, message: 'must be a date and time with a zone, e.g. 2026-11-30T08:00:00Z' })
    .transform((value) => new Date(value))
    .refine((since) => since < new Date(), 'must be in the past'),
});

export function replayPages({ db, replay, operator }: AppDependencies): Router {
  const router = Router();
  const { access } = operator;

  router.get('/operator/notifications/:trackingId/replay', async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const [notification, candidate] = await Promise.all([
      findNotification(db, trackingId),
      findReplayCandidate(db, trackingId, replay.pendingForMs),
    ]);
    if (!notification) throw new AppError(404, 'not_found', `no notification ${trackingId}`);
    // Refused here as its Replay button would be: no confirmation of a replay that cannot happen.
    if (candidate.kind !== 'replayable') throw replayRefusal(trackingId, candidate);
    sendConfirmation(res, layoutFor(res, access).context, {
      title: 'Replay this notification?',
      details: html`<p>The email to ${notification.recipient.name} &lt;${notification.recipient.email}&gt;
(${notification.operation}, now ${notification.status}) is queued again from its stored message and sent anew.</p>`,
      action: `/operator/notifications/${trackingId}/replay`,
      button: 'Replay',
      cancel: `/operator/notifications/${trackingId}`,
    });
  });

  router.post('/operator/notifications/:trackingId/replay', ...guardPageForm(access), async (req, res) => {
    const { trackingId } = parseRequest(TrackingIdParams, req.params, 'params');
    const outcome = await queued(() => replayNotification(trackingId, replay));
    if (outcome.kind !== 'queued') throw replayRefusal(trackingId, outcome);
    res.redirect(303, href(`/operator/notifications/${trackingId}`, { replay: 'queued' }));
  });

  router.get('/operator/replay-failed', (req, res) => {
    const { since } = parseRequest(Since, req.query, 'query');
    sendConfirmation(res, layoutFor(res, access).context, {
      title: 'Replay failed notifications?',
      details: html`<p>Up to ${BULK_LIMIT} notifications that failed and were created since ${when(since.toISOString())},
oldest first, are queued again from their stored messages. Those whose replay is already queued are left out; if more
remain, the result says so and you can replay again.</p>`,
      action: '/operator/replay-failed',
      fields: { since: since.toISOString() },
      button: `Replay up to ${BULK_LIMIT}`,
      cancel: href('/operator/notifications', { status: 'failed' }),
    });
  });

  router.post('/operator/replay-failed', ...guardPageForm(access), async (req, res) => {
    const { since } = parseRequest(Since, req.body, 'body');
    const range = { status: 'failed' as const, from: since, to: new Date(), limit: BULK_LIMIT };
    const result = await queued(() => replayRange(range, replay));
    res.redirect(
      303,
      href('/operator/notifications', {
        status: 'failed',
        queued: String(result.queued),
        notQueued: String(result.notQueued),
        invalid: String(result.invalid),
        more: String(result.more),
      }),
    );
  });

  return router;
}

async function queued<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ReplayNotQueuedError) throw new AppError(503, 'broker_unavailable', error.message);
    throw error;
  }
}
