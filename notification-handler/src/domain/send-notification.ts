import { randomUUID } from 'node:crypto';
import type { NotificationMessage } from '@notify/shared';
import { type Logger, maskEmail, scrubAddresses } from '@notify/shared/platform';
import { DatabaseRefusal } from '../db/database-errors.js';
import type { Settlement } from '../db/notification-repository.js';
import type { NotificationStore } from '../db/notification-store.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from './clock-skew.js';
import type { Address, GuardedEmailProvider } from './email-provider.js';
import { buildEmail } from './email-template.js';
import { nextRedelivery, type RedeliveryPolicy } from './redelivery-schedule.js';
import type { DelayStrategy } from './retry.js';
import { sendWithRetries } from './send-with-retries.js';
import { waitForLease } from './wait-for-lease.js';

export type SendNotificationDeps = {
  store: NotificationStore;
  provider: GuardedEmailProvider;
  from: Address;
  retryPolicy: { maxRetries: number; delay: DelayStrategy };
  redelivery: RedeliveryPolicy;
  leasePollMs: number;
  /** PERSONAL_DATA_RETENTION_DAYS: a notification older than this is never sent, nor stored again. */
  personalDataRetentionMs: number;
  /**
   * The tracking ids a delivery of this process has claimed and not finished with, shared by all
   * of them. Another delivery of one (the relay publishing it again after an outage) waits for the
   * first to finish rather than claim: the first, still at work, may hold a lease that ran out
   * while the database was away, and a claim would take the row over and send the email again.
   */
  claimedHere: Set<string>;
  log: Logger;
};

/** What a claim finds while another delivery of this process holds the row: busy, look again soon. */
const HELD_HERE = Promise.resolve({ kind: 'busy', leaseExpiresAt: undefined } as const);

/** One delivery of a notification message, with what its AMQP headers say about it. */
export type NotificationDelivery = {
  message: NotificationMessage;
  /** Queued by the replay API: may reopen a failed notification. */
  replay: boolean;
  /** Times it went through a delay queue so far. */
  redeliveries: number;
  /** The deadline counts from here: the event's `occurredAt`, or the replay's time. */
  deadlineFrom: Date;
  /** The W3C trace the message's `traceparent` header continues, when it had one. */
  traceId: string | undefined;
};

export type SendNotificationOutcome =
  | { kind: 'sent'; attempts: number }
  | { kind: 'duplicate' }
  /** Failed before, by an earlier delivery: its dead-letter copy may never have been made. */
  | { kind: 'already_failed'; reason: string }
  | { kind: 'failed'; reason: string; attempts: number }
  | { kind: 'rescheduled'; reason: string; delayMs: number; nextAttemptAt: Date; redeliveries: number }
  /** The database refused the notification's own data: poison, dead-letter it. */
  | { kind: 'refused'; reason: string }
  | { kind: 'interrupted' };

const PAST_RETENTION_REASON = 'older than its personal data retention period: not sent';

/**
 * claim the row → build the email → send with retries → settle the row (sent, rescheduled through
 * the broker, or failed) → log the result. `signal` ends waits (lease, breaker, retry interval) but
 * never cuts a provider call short.
 */
export async function sendNotification(
  delivery: NotificationDelivery,
  deps: SendNotificationDeps,
  signal: AbortSignal,
): Promise<SendNotificationOutcome> {
  const { message } = delivery;
  const log = deps.log.child({
    trackingId: message.trackingId,
    operation: message.operation,
    ...(delivery.traceId ? { traceId: delivery.traceId } : {}),
  });
  // A dead-letter copy replayed after retention erased its row (or purged it, and the claim would
  // insert it afresh): its recipient is no longer ours to write to, nor to store again. The row was
  // created up to the clock skew allowed before `occurredAt`, and is purged counting from then.
  if (Date.parse(message.occurredAt) - CLOCK_SKEW_ALLOWANCE_MS < Date.now() - deps.personalDataRetentionMs) {
    log.warn('delivery of a notification older than its personal data retention; nothing sent, dead-lettered');
    return { kind: 'already_failed', reason: PAST_RETENTION_REASON };
  }
  // Every write of this delivery to the row shows it: one that another delivery took over since
  // (this one's lease having lapsed) is left as that one has it.
  const claimToken = randomUUID();
  const { trackingId } = message;
  try {
    const claim = await waitForLease(
      trackingId,
      () =>
        deps.claimedHere.has(trackingId)
          ? HELD_HERE
          : deps.store.claim({ message, replay: delivery.replay, traceId: delivery.traceId, claimToken }),
      { settledHereOrAfter: deps.store.settledHereOrAfter, pollMs: deps.leasePollMs },
      signal,
    );
    if (claim.kind === 'interrupted') return claim;
    if (claim.kind === 'sent') {
      log.info('duplicate delivery of a sent notification; nothing sent');
      return { kind: 'duplicate' };
    }
    if (claim.kind === 'failed') {
      log.info('delivery of a failed notification; nothing sent, dead-lettered again');
      return { kind: 'already_failed', reason: claim.lastError ?? 'failed by an earlier delivery' };
    }
    deps.claimedHere.add(trackingId);
    try {
      return await sendClaimed(delivery, { previousAttempts: claim.previousAttempts, claimToken }, deps, signal, log);
    } finally {
      deps.claimedHere.delete(trackingId);
    }
  } catch (error) {
    if (!(error instanceof DatabaseRefusal)) throw error;
    // The database may quote the value it refused.
    const reason = scrubAddresses(error.message);
    log.warn({ reason }, 'the database refused this notification');
    return { kind: 'refused', reason };
  }
}

async function sendClaimed(
  delivery: NotificationDelivery,
  { previousAttempts, claimToken }: { previousAttempts: number; claimToken: string },
  deps: SendNotificationDeps,
  signal: AbortSignal,
  log: Logger,
): Promise<SendNotificationOutcome> {
  const { trackingId } = delivery.message;
  const email = buildEmail(delivery.message, deps.from);
  const deadlineAt = new Date(delivery.deadlineFrom.getTime() + deps.redelivery.deadlineMs);
  const startedAt = Date.now();
  const result = await sendWithRetries(email, { ...deps, previousAttempts, claimToken, deadlineAt, log }, signal);
  const fields = {
    recipient: maskEmail(email.to.email),
    attempts: result.attempts,
    durationMs: Date.now() - startedAt,
  };

  if (result.kind === 'sent') {
    await recordSent(deps.store, { trackingId, claimToken, status: 'sent', attempt: result.attempt }, log);
    log.info({ ...fields, provider: result.attempt.provider }, 'email sent');
    return { kind: 'sent', attempts: result.attempts };
  }
  if (result.kind === 'interrupted') {
    await deps.store.releaseLease(trackingId, claimToken);
    return { kind: 'interrupted' };
  }
  const next = result.transient ? nextRedelivery(deps.redelivery, delivery.redeliveries, deadlineAt) : undefined;
  if (next) {
    await deps.store.settle({
      trackingId,
      claimToken,
      status: 'retry_scheduled',
      lastError: result.reason,
      nextAttemptAt: next.at,
    });
    log.warn({ ...fields, reason: result.reason, nextAttemptAt: next.at }, 'email not sent yet; retry scheduled');
    return {
      kind: 'rescheduled',
      reason: result.reason,
      delayMs: next.delayMs,
      nextAttemptAt: next.at,
      redeliveries: next.redeliveries,
    };
  }
  const reason = result.transient ? `deadline passed: ${result.reason}` : result.reason;
  await deps.store.settle({ trackingId, claimToken, status: 'failed', lastError: reason });
  log.error({ ...fields, reason }, 'email failed');
  return { kind: 'failed', reason, attempts: result.attempts };
}

/**
 * The email went out: a refusal to record it must not dead-letter the message, since a replay of
 * that dead letter would send it again. The row stays `in_progress`, said loudly.
 */
async function recordSent(store: NotificationStore, settlement: Settlement, log: Logger): Promise<void> {
  try {
    await store.settle(settlement);
  } catch (error) {
    if (!(error instanceof DatabaseRefusal)) throw error;
    log.error(
      { reason: scrubAddresses(error.message) },
      'email sent, but the database refused to record it: its row stays in_progress',
    );
  }
}
