import type { Logger } from '@notify/shared/platform';
import type { AttemptRecord } from '../db/notification-repository.js';
import type { NotificationStore } from '../db/notification-store.js';
import { withTimeout } from './abortable-sleep.js';
import type { Email, GuardedEmailProvider, SendOutcome } from './email-provider.js';
import { type DelayStrategy, RetryError, retry } from './retry.js';

export type ImmediateRetryDeps = {
  store: NotificationStore;
  provider: GuardedEmailProvider;
  retryPolicy: { maxRetries: number; delay: DelayStrategy };
  /** Attempts recorded by earlier deliveries: numbering goes on from there. */
  previousAttempts: number;
  /** The delivery's claim on the row, shown by every write to it. */
  claimToken: string;
  deadlineAt: Date;
  log: Logger;
};

export type ImmediateResult =
  | { kind: 'sent'; attempt: AttemptRecord; attempts: number }
  | { kind: 'not_sent'; transient: boolean; reason: string; attempts: number }
  | { kind: 'interrupted'; attempts: number };

type FailedOutcome = Extract<SendOutcome, { kind: 'failed' }>;

/** A failed provider outcome, carried through the retry loop. */
class SendFailure extends Error {
  constructor(readonly outcome: FailedOutcome) {
    super(outcome.reason);
  }
}

/** The breaker refused the call: nothing was sent or tried. */
class Deferred extends Error {}

/** The deadline came while waiting for the provider. */
class DeadlineReached extends Error {}

/** The wait outlasted the lease and another delivery took the row over: that one sends, not this one. */
class ClaimLost extends Error {}

/**
 * Before a call, the lease is renewed once this share of it has passed since it was last extended
 * (the claim, a recorded attempt, a renewal): waits for an open breaker, each short, add up.
 */
const RENEW_AFTER_LEASE_SHARE = 0.25;

/** When the delivery's lease on the row was last extended. */
type LeaseClock = { extendedAt: number };

/**
 * The immediate level of retries: up to `maxRetries` more calls, `delay` apart, for failures a retry
 * can fix. Calls wait while every provider's breaker is open; a refused call, a failed probe, a 429
 * and a configuration error cost no retry (the next call may go to another provider). Every call
 * made is an attempt row, naming its provider.
 */
export async function sendWithRetries(
  email: Email,
  deps: ImmediateRetryDeps,
  signal: AbortSignal,
): Promise<ImmediateResult> {
  let calls = 0;
  let lastReason = 'provider unavailable';
  const lease: LeaseClock = { extendedAt: Date.now() };
  try {
    const attempt = await retry(
      async () => {
        await waitForProvider(email.customId, deps, lease, signal);
        const outcome = await sendOnce(deps, email, deps.previousAttempts + calls + 1, lease);
        if (outcome.kind === 'deferred') throw new Deferred(outcome.reason);
        calls += 1;
        if (outcome.kind === 'failed') {
          lastReason = outcome.reason;
          // A 429 costs no retry: only the deadline ends the calls to a provider that keeps answering it.
          if (outcome.spendsRetry === false && Date.now() >= deps.deadlineAt.getTime()) throw new DeadlineReached();
          throw new SendFailure(outcome);
        }
        return outcome.attempt;
      },
      {
        ...deps.retryPolicy,
        signal,
        shouldRetry: (error) => error instanceof Deferred || (error instanceof SendFailure && error.outcome.transient),
        isFree: (error) =>
          error instanceof Deferred || (error instanceof SendFailure && error.outcome.spendsRetry === false),
        onRetry: ({ attempt, error, delayMs }) =>
          deps.log.warn(
            {
              attempt,
              ...(error instanceof SendFailure ? { provider: error.outcome.provider } : {}),
              reason: (error as Error).message,
              nextDelayMs: delayMs,
            },
            'email send failed; retrying',
          ),
      },
    );
    return { kind: 'sent', attempt, attempts: calls };
  } catch (error) {
    if (signal.aborted) return { kind: 'interrupted', attempts: calls };
    if (!(error instanceof RetryError)) throw error;
    const last = error.lastError;
    if (last instanceof ClaimLost) return { kind: 'interrupted', attempts: calls };
    if (last instanceof SendFailure)
      return { kind: 'not_sent', transient: last.outcome.transient, reason: last.message, attempts: calls };
    if (last instanceof DeadlineReached)
      return { kind: 'not_sent', transient: true, reason: lastReason, attempts: calls };
    throw last;
  }
}

/**
 * Waits while the breaker refuses calls, at most until the deadline; then renews the lease if a
 * quarter of it has passed since it was last extended, and sends nothing if the row is no longer
 * this delivery's.
 */
async function waitForProvider(
  trackingId: string,
  deps: ImmediateRetryDeps,
  lease: LeaseClock,
  signal: AbortSignal,
): Promise<void> {
  if (deps.provider.breakerState() !== 'closed') {
    const untilDeadline = deps.deadlineAt.getTime() - Date.now();
    if (untilDeadline <= 0) throw new DeadlineReached();
    try {
      await withTimeout(signal, untilDeadline, (wait) => deps.provider.whenCallable(wait));
    } catch {
      if (signal.aborted) throw signal.reason;
      throw new DeadlineReached();
    }
  }
  if (Date.now() - lease.extendedAt <= deps.store.leaseMs * RENEW_AFTER_LEASE_SHARE) return;
  const renewedAt = Date.now();
  if (await deps.store.renewLease(trackingId, deps.claimToken)) {
    lease.extendedAt = renewedAt;
    return;
  }
  deps.log.warn('another delivery took the row over while this one waited for the provider; not sending');
  throw new ClaimLost();
}

type CallOutcome = { kind: 'sent'; attempt: AttemptRecord } | FailedOutcome | { kind: 'deferred'; reason: string };

/** One provider call. A failure is recorded here; a success together with the row's settlement. */
async function sendOnce(
  deps: ImmediateRetryDeps,
  email: Email,
  number: number,
  lease: LeaseClock,
): Promise<CallOutcome> {
  const startedAt = new Date();
  const [outcome] = await deps.provider.send([email]);
  const finishedAt = new Date();
  if (!outcome) throw new Error('email provider returned no outcome');
  if (outcome.kind === 'deferred') return outcome;
  if (outcome.kind === 'sent') {
    const { httpStatus, providerMessageId, provider } = outcome;
    return {
      kind: 'sent',
      attempt: { number, startedAt, finishedAt, outcome: 'sent', httpStatus, providerMessageId, provider },
    };
  }
  const attempt: AttemptRecord = {
    number,
    startedAt,
    finishedAt,
    provider: outcome.provider,
    outcome: outcome.transient ? 'transient_error' : 'permanent_error',
    httpStatus: outcome.httpStatus,
    errorCode: outcome.errorCode,
    message: outcome.reason,
  };
  const recordedAt = Date.now();
  await deps.store.settle({ trackingId: email.customId, claimToken: deps.claimToken, status: 'in_progress', attempt });
  lease.extendedAt = recordedAt;
  return outcome;
}
