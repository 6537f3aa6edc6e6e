import { EventEmitter, once } from 'node:events';
import { createMicroBatcher } from '@notify/shared/platform';
import { withTimeout } from '../domain/abortable-sleep.js';
import type { DatabaseAvailability } from './database-availability.js';
import { DatabaseRefusal } from './database-errors.js';
import {
  type ClaimRequest,
  type ClaimResult,
  claimNotifications,
  type Queryable,
  releaseLease,
  renewLease,
  type Settlement,
  settleNotifications,
} from './notification-repository.js';

export type NotificationStore = ReturnType<typeof createNotificationStore>;

/** Claims, or settlements, written by one statement at most. */
const MAX_PER_STATEMENT = 100;

export type StoreSettings = {
  leaseMs: number;
  /** Claims, and settlements, in flight at once (WRITE_BATCHES_IN_FLIGHT); keep twice it under the pool size. */
  maxConcurrentBatches: number;
};

/**
 * The use case's view of the notifications table: single calls, carried out as batched statements
 * (the database's round trips are this pipeline's tightest limit). Every statement waits out a
 * database outage (`availability.runThroughOutages`); a batch the database refuses runs again item by
 * item, so that only the poison item fails (DatabaseRefusal), and the others go on at once.
 */
export function createNotificationStore(db: Queryable, availability: DatabaseAvailability, settings: StoreSettings) {
  const options = {
    maxBatchSize: MAX_PER_STATEMENT,
    maxConcurrentBatches: settings.maxConcurrentBatches,
    isolate: (error: unknown) => error instanceof DatabaseRefusal,
  };
  const settledEvents = new EventEmitter<Record<string, []>>();
  settledEvents.setMaxListeners(0);

  const claim = createMicroBatcher<ClaimRequest, ClaimResult>(
    (requests) => availability.runThroughOutages(() => claimDistinct(db, requests, settings.leaseMs)),
    options,
  );
  const settle = createMicroBatcher<Settlement, void>(async (settlements) => {
    await availability.runThroughOutages(() => settleNotifications(db, settlements, settings.leaseMs));
    for (const { trackingId, status } of settlements) if (status !== 'in_progress') settledEvents.emit(trackingId);
    return settlements.map(() => undefined);
  }, options);

  return {
    /** How long a claim, a renewal or a recorded attempt holds the row. */
    leaseMs: settings.leaseMs,
    claim,
    settle,
    releaseLease: (trackingId: string, claimToken: string) =>
      availability.runThroughOutages(() => releaseLease(db, trackingId, claimToken)),
    renewLease: (trackingId: string, claimToken: string) =>
      availability.runThroughOutages(() => renewLease(db, trackingId, claimToken, settings.leaseMs)),
    /** Resolves when this process settles the row, or after `ms`, or on abort: a cue to look again. */
    async settledHereOrAfter(trackingId: string, ms: number, signal: AbortSignal): Promise<void> {
      await withTimeout(signal, ms, (waited) => once(settledEvents, trackingId, { signal: waited })).catch(
        () => undefined,
      );
    },
  };
}

/**
 * One statement may not touch a row twice, and a duplicate delivery can land in the same batch as
 * its original: the first occurrence is claimed, the others are busy and look again later.
 */
async function claimDistinct(db: Queryable, requests: ClaimRequest[], leaseMs: number): Promise<ClaimResult[]> {
  const firstIndex = new Map<string, number>();
  requests.forEach(({ message }, index) => {
    if (!firstIndex.has(message.trackingId)) firstIndex.set(message.trackingId, index);
  });
  const distinct = [...firstIndex.values()].map((index) => requests[index] as ClaimRequest);
  const results = await claimNotifications(db, distinct, leaseMs);
  const byId = new Map(distinct.map(({ message }, index) => [message.trackingId, results[index] as ClaimResult]));
  return requests.map(({ message }, index) =>
    firstIndex.get(message.trackingId) === index
      ? (byId.get(message.trackingId) as ClaimResult)
      : { kind: 'busy', leaseExpiresAt: undefined },
  );
}
