import { createMicroBatcher } from '@notify/shared/platform';
import type { Email, GuardedEmailProvider, SendOutcome } from '../domain/email-provider.js';

/** Mailjet's bound: 50 messages (and recipients) per call. */
export const MAX_EMAILS_PER_CALL = 50;

/**
 * Sends emails from concurrent notifications in shared provider calls, up to 50 a call: the
 * provider limits calls per key, not emails. Each caller still gets its own outcome, so its retry
 * loop resends only its own email. The port is unchanged: this is just another provider.
 */
export function batchingEmailProvider(
  provider: GuardedEmailProvider,
  maxConcurrentCalls: number,
  /** The provider's call-rate slot, taken before each batch is formed. */
  beforeCall?: () => Promise<void>,
): GuardedEmailProvider {
  const sendOne = createMicroBatcher<Email, SendOutcome>((emails) => provider.send(emails), {
    maxBatchSize: MAX_EMAILS_PER_CALL,
    maxConcurrentBatches: maxConcurrentCalls,
    ...(beforeCall ? { beforeBatch: beforeCall } : {}),
  });
  return {
    send: (emails) => Promise.all(emails.map(sendOne)),
    whenCallable: (signal) => provider.whenCallable(signal),
    breakerState: () => provider.breakerState(),
  };
}

/**
 * One email per provider call, for a provider that has no per-message outcome within a call
 * (SendGrid): the guard below then counts, rate-limits and times each request on its own.
 */
export function oneEmailPerCall(provider: GuardedEmailProvider): GuardedEmailProvider {
  return {
    send: async (emails) => (await Promise.all(emails.map((email) => provider.send([email])))).flat(),
    whenCallable: (signal) => provider.whenCallable(signal),
    breakerState: () => provider.breakerState(),
  };
}
