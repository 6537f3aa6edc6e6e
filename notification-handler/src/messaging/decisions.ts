import type { Operation } from '@notify/shared';
import type { SendNotificationOutcome } from '../domain/send-notification.js';

/**
 * Why a message went to the dead-letter queue: it did not decode, the database refused its data,
 * the use case failed it (a permanent provider refusal, or the deadline passed), or an earlier
 * delivery had failed it.
 */
export type DeadLetterCause = 'invalid_message' | 'refused' | 'send_failed' | 'already_failed';

/**
 * What the consumer did with a delivery; tests and metrics wait on these, not on log text.
 * `operation` is undefined only for a message that did not decode.
 */
export type Decision =
  | {
      kind: 'acked';
      trackingId: string;
      operation: Operation;
      outcome: SendNotificationOutcome['kind'];
      /** The event's time, and whether a replay brought it: for the accepted-to-sent latency. */
      occurredAt: string;
      replay: boolean;
    }
  | {
      kind: 'dead-lettered';
      trackingId: string | undefined;
      operation: Operation | undefined;
      reason: string;
      cause: DeadLetterCause;
    }
  | { kind: 'rescheduled'; trackingId: string; operation: Operation; delayMs: number; nextAttemptAt: Date }
  | { kind: 'requeued'; trackingId: string | undefined; operation: Operation | undefined; reason: string };
