import { createHash } from 'node:crypto';
import { decodeNotification, type NotificationMessage } from '@notify/shared';
import type { PublishOutcome } from '@notify/shared/platform';
import type { Channel, GetMessage } from 'amqplib';
import type { BrokerInspector } from './broker-inspector.js';

/** One dead letter as the page shows it; `key` names it for an action (replay, discard). */
export type DeadLetterView = {
  key: string;
  trackingId: string | undefined;
  reason: string;
  deadLetteredAt: string | undefined;
  routingKey: string | undefined;
  /** Decodes as a valid notification: it can go back to the work queue. */
  replayable: boolean;
};

export type DeadLetterAction = 'replay' | 'discard';

export type DeadLetterOutcome =
  | { kind: 'replayed'; trackingId: string }
  | { kind: 'discarded' }
  | { kind: 'not_found' }
  | { kind: 'not_replayable'; reason: string }
  | { kind: 'not_queued'; reason: string };

export type DeadLetterDeps = {
  inspector: BrokerInspector;
  queue: string;
  /** Publishes to the handler's own work queue, marked as a replay, with confirms. */
  requeue: (message: NotificationMessage, requestedAt: Date) => Promise<PublishOutcome>;
  /** Bounds a read; an action also waits for the replay's publisher confirm within it. */
  timeoutMs: number;
};

/**
 * Reads the dead-letter queue without a consumer: `basic.get` without auto-ack, up to `limit`
 * messages, then `basic.nack` with requeue for every one not acted on. Requeued messages go back
 * to their place in the queue, and a nack (unlike a reject) does not count as a failed delivery
 * on RabbitMQ 4.3+. While the page holds them (a few milliseconds), those messages are unacked: a
 * `checkQueue` at that moment does not count them.
 */
export type DeadLetterQueue = ReturnType<typeof createDeadLetterQueue>;

export function createDeadLetterQueue(deps: DeadLetterDeps) {
  const take = async (channel: Channel, limit: number, until?: (message: GetMessage) => boolean) => {
    const taken: GetMessage[] = [];
    while (taken.length < limit) {
      const message = await channel.get(deps.queue, { noAck: false });
      if (message === false) break;
      taken.push(message);
      if (until?.(message)) break;
    }
    return taken;
  };

  return {
    peek(limit: number): Promise<DeadLetterView[]> {
      return deps.inspector.withChannel(deps.timeoutMs, async (channel) => {
        const taken = await take(channel, limit);
        channel.nackAll(true);
        return taken.map(describeDeadLetter);
      });
    },

    /** Finds the message among the first `limit` and replays or discards it; acks only once that is done. */
    act(key: string, action: DeadLetterAction, limit: number): Promise<DeadLetterOutcome> {
      return deps.inspector.withChannel(deps.timeoutMs, async (channel) => {
        const taken = await take(channel, limit, (message) => keyOf(message) === key);
        const found = taken.find((message) => keyOf(message) === key);
        const outcome = found ? await carryOut(channel, found, action) : ({ kind: 'not_found' } as const);
        channel.nackAll(true);
        return outcome;
      });
    },
  };

  async function carryOut(channel: Channel, message: GetMessage, action: DeadLetterAction): Promise<DeadLetterOutcome> {
    if (action === 'discard') {
      channel.ack(message);
      return { kind: 'discarded' };
    }
    const decoded = decodeNotification(message);
    if (!decoded.ok) return { kind: 'not_replayable', reason: decoded.error.message };
    // Confirmed in the work queue before the dead letter goes: a crash in between leaves both (a
    // duplicate replay at worst, which the consumer's claim turns into a no-op), never neither.
    const published = await deps.requeue(decoded.message, new Date());
    if (published.status !== 'published') return { kind: 'not_queued', reason: published.reason };
    channel.ack(message);
    return { kind: 'replayed', trackingId: decoded.message.trackingId };
  }
}

export function describeDeadLetter(message: GetMessage): DeadLetterView {
  const headers = message.properties.headers ?? {};
  const death = firstDeath(headers['x-death']);
  const decoded = decodeNotification(message);
  return {
    key: keyOf(message),
    trackingId: decoded.ok ? decoded.message.trackingId : text(message.properties.messageId),
    reason: text(headers['x-failure-reason']) ?? (death ? `broker: ${death.reason}` : 'unknown'),
    deadLetteredAt: text(headers['x-dead-lettered-at']) ?? death?.time,
    routingKey: text(headers['x-original-routing-key']) ?? message.fields.routingKey,
    replayable: decoded.ok,
  };
}

/**
 * Names a message across reads: what a requeue does not change (its body, id and dead-letter
 * headers), never the delivery count or tag. Two identical copies share a key, and either will do.
 */
export function keyOf(message: GetMessage): string {
  const headers = message.properties.headers ?? {};
  return createHash('sha256')
    .update(message.content)
    .update(`\n${String(message.properties.messageId)}\n${String(headers['x-dead-lettered-at'])}`)
    .update(`\n${String(headers['x-failure-reason'])}`)
    .digest('base64url')
    .slice(0, 22);
}

function firstDeath(value: unknown): { reason: string; time: string | undefined } | undefined {
  const first = Array.isArray(value) ? (value[0] as { reason?: unknown; time?: unknown } | undefined) : undefined;
  if (!first) return undefined;
  const time = first.time as { value?: unknown } | number | undefined;
  const seconds = typeof time === 'number' ? time : typeof time?.value === 'number' ? time.value : undefined;
  return {
    reason: String(first.reason ?? 'unknown'),
    time: seconds === undefined ? undefined : new Date(seconds * 1_000).toISOString(),
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
