import type { NotificationMessage } from '@notify/shared';
import type { Logger } from '@notify/shared/platform';
import type { AttemptRecord } from '../db/notification-repository.js';
import type { NotificationStore } from '../db/notification-store.js';
import type { Address, Email, EmailProvider, SendOutcome } from './email-provider.js';
import { buildEmail } from './email-template.js';
import { maskEmail } from './mask-email.js';
import { persistently } from './persistently.js';
import { type DelayStrategy, RetryError, retry } from './retry.js';
import { waitForLease } from './wait-for-lease.js';

export type SendNotificationDeps = {
  store: NotificationStore;
  provider: EmailProvider;
  from: Address;
  retryPolicy: { maxRetries: number; delay: DelayStrategy };
  log: Logger;
};

export type SendNotificationOutcome =
  | { kind: 'sent'; attempts: number }
  | { kind: 'duplicate' }
  | { kind: 'already_failed' }
  | { kind: 'failed'; reason: string; attempts: number }
  | { kind: 'interrupted' };

type FailedOutcome = Extract<SendOutcome, { kind: 'failed' }>;

/** Carries a failed provider outcome through the retry loop. */
export class SendFailure extends Error {
  constructor(readonly outcome: FailedOutcome) {
    super(outcome.reason);
  }
}

/**
 * claim the row → build the email → send with retries → settle the row → log the result.
 * `signal` is shutdown: it ends waits (lease, retry interval) but never cuts a provider call short.
 */
export async function sendNotification(
  message: NotificationMessage,
  deps: SendNotificationDeps,
  signal: AbortSignal,
): Promise<SendNotificationOutcome> {
  const log = deps.log.child({ trackingId: message.trackingId, operation: message.operation });
  const claim = await waitForLease(() => deps.store.claim(message), signal);
  if (claim.kind === 'interrupted') return claim;
  if (claim.kind === 'sent') {
    log.info('duplicate delivery of a sent notification; nothing sent');
    return { kind: 'duplicate' };
  }
  if (claim.kind === 'failed') {
    log.info('delivery of a failed notification; left failed (replay it through the API)');
    return { kind: 'already_failed' };
  }

  const email = buildEmail(message, deps.from);
  const startedAt = Date.now();
  let attempts = 0;
  try {
    const sent = await retry(
      async (attempt) => {
        attempts = attempt;
        return sendOnce(deps, email, claim.previousAttempts + attempt);
      },
      {
        ...deps.retryPolicy,
        signal,
        shouldRetry: (error) => error instanceof SendFailure && error.outcome.transient,
        onRetry: ({ attempt, error, delayMs }) =>
          log.warn({ attempt, reason: (error as Error).message, nextDelayMs: delayMs }, 'email send failed; retrying'),
      },
    );
    await persistently(() => deps.store.settle({ trackingId: message.trackingId, status: 'sent', attempt: sent }));
    log.info(resultFields(email.to.email, attempts, startedAt), 'email sent');
    return { kind: 'sent', attempts };
  } catch (error) {
    if (!(error instanceof RetryError)) throw error;
    if (error.aborted) {
      await deps.store.releaseLease(message.trackingId);
      return { kind: 'interrupted' };
    }
    if (!(error.lastError instanceof SendFailure)) throw error.lastError;
    const reason = error.lastError.message;
    await persistently(() =>
      deps.store.settle({ trackingId: message.trackingId, status: 'failed', lastError: reason }),
    );
    log.error({ ...resultFields(email.to.email, attempts, startedAt), reason }, 'email failed');
    return { kind: 'failed', reason, attempts };
  }
}

/** One provider call. A failure is recorded here; a success together with the row's settlement. */
async function sendOnce(deps: SendNotificationDeps, email: Email, number: number): Promise<AttemptRecord> {
  const startedAt = new Date();
  const [outcome] = await deps.provider.send([email]);
  const finishedAt = new Date();
  if (!outcome) throw new Error('email provider returned no outcome');
  if (outcome.kind === 'sent') {
    const { httpStatus, providerMessageId } = outcome;
    return { number, startedAt, finishedAt, outcome: 'sent', httpStatus, providerMessageId };
  }
  const attempt: AttemptRecord = {
    number,
    startedAt,
    finishedAt,
    outcome: outcome.transient ? 'transient_error' : 'permanent_error',
    httpStatus: outcome.httpStatus,
    errorCode: outcome.errorCode,
    message: outcome.reason,
  };
  await deps.store.settle({ trackingId: email.customId, status: 'in_progress', attempt });
  throw new SendFailure(outcome);
}

function resultFields(recipient: string, attempts: number, startedAt: number) {
  return { recipient: maskEmail(recipient), attempts, durationMs: Date.now() - startedAt };
}
