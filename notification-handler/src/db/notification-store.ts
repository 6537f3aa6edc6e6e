import type { NotificationMessage } from '@notify/shared';
import { createMicroBatcher } from '../batching/micro-batcher.js';
import {
  type ClaimResult,
  claimNotifications,
  type Queryable,
  releaseLease,
  type Settlement,
  settleNotifications,
} from './notification-repository.js';

export type NotificationStore = {
  claim: (message: NotificationMessage) => Promise<ClaimResult>;
  settle: (settlement: Settlement) => Promise<void>;
  releaseLease: (trackingId: string) => Promise<void>;
};

export type StoreSettings = {
  leaseMs: number;
  maxBatchSize?: number;
  /** Statements in flight at once per kind; keep it under the pool size. */
  maxConcurrentBatches?: number;
};

/**
 * The use case's view of the notifications table: single calls, carried out as batched
 * statements, since the database's round trips are this pipeline's tightest limit.
 */
export function createNotificationStore(db: Queryable, settings: StoreSettings): NotificationStore {
  const options = {
    maxBatchSize: settings.maxBatchSize ?? 100,
    maxConcurrentBatches: settings.maxConcurrentBatches ?? 4,
  };
  const claim = createMicroBatcher<NotificationMessage, ClaimResult>(
    (messages) => claimDistinct(db, messages, settings.leaseMs),
    options,
  );
  const settle = createMicroBatcher<Settlement, void>(async (settlements) => {
    await settleNotifications(db, settlements);
    return settlements.map(() => undefined);
  }, options);
  return { claim, settle, releaseLease: (trackingId) => releaseLease(db, trackingId) };
}

/**
 * One statement may not touch a row twice, and a duplicate delivery can land in the same batch as
 * its original: the first occurrence is claimed, the others are busy and look again later.
 */
async function claimDistinct(db: Queryable, messages: NotificationMessage[], leaseMs: number): Promise<ClaimResult[]> {
  const firstIndex = new Map<string, number>();
  messages.forEach((message, index) => {
    if (!firstIndex.has(message.trackingId)) firstIndex.set(message.trackingId, index);
  });
  const distinct = [...firstIndex.values()].map((index) => messages[index] as NotificationMessage);
  const results = await claimNotifications(db, distinct, leaseMs);
  const byId = new Map(distinct.map((message, index) => [message.trackingId, results[index] as ClaimResult]));
  return messages.map((message, index) =>
    firstIndex.get(message.trackingId) === index
      ? (byId.get(message.trackingId) as ClaimResult)
      : { kind: 'busy', leaseExpiresAt: undefined },
  );
}
