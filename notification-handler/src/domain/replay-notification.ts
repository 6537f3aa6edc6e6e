import type { NotificationMessage } from '@notify/shared';
import { type Queryable, reopenFailed, revertReopen } from '../db/notification-repository.js';

export type ReplayOutcome = { kind: 'queued' } | { kind: 'not_found' } | { kind: 'not_failed'; status: string };

/**
 * Queues a failed notification again from its stored request. The row is reopened before the
 * message is published, so that the consumer finds it claimable; a failed publish reopens nothing.
 */
export async function replayNotification(
  trackingId: string,
  deps: { db: Queryable; publish: (message: NotificationMessage) => Promise<void> },
): Promise<ReplayOutcome> {
  const reopened = await reopenFailed(deps.db, trackingId);
  if (reopened.kind !== 'queued') return reopened;
  try {
    await deps.publish(reopened.request);
  } catch (error) {
    await revertReopen(deps.db, trackingId);
    throw error;
  }
  return { kind: 'queued' };
}
