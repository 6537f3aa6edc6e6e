import type { NotificationMessage } from '@notify/shared';
import { childTraceContext, parseTraceparent, TRACEPARENT_HEADER } from '@notify/shared/platform';
import type { ConsumeMessage, Options } from 'amqplib';
import type { NotificationDelivery } from '../domain/send-notification.js';

/** Our headers on a message that went through a delay queue or came from the replay API. */
export const HEADERS = {
  redeliveries: 'x-redeliveries',
  replayRequestedAt: 'x-replay-requested-at',
} as const;

// What RabbitMQ adds when it dead-letters (a delay queue expiring) and we do not carry further.
const BROKER_DEATH_HEADERS = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  'x-delivery-count',
];

/** What a delivery's headers say about it, for the use case. */
export function readDelivery(message: NotificationMessage, delivery: ConsumeMessage): NotificationDelivery {
  const headers = delivery.properties.headers ?? {};
  const redeliveries = Number(headers[HEADERS.redeliveries] ?? 0);
  const replayRequestedAt = parseDate(headers[HEADERS.replayRequestedAt]);
  return {
    message,
    replay: replayRequestedAt !== undefined,
    redeliveries: Number.isInteger(redeliveries) && redeliveries >= 0 ? redeliveries : 0,
    deadlineFrom: replayRequestedAt ?? new Date(message.occurredAt),
    traceId: readTraceId(delivery),
  };
}

/**
 * The trace the message's `traceparent` header continues: the handler's work is a child span of
 * the publisher's, so it keeps its trace id. No header, or a malformed one: no trace id. The
 * handler starts no trace of its own, since nothing downstream of it would carry one.
 */
export function readTraceId(delivery: Pick<ConsumeMessage, 'properties'>): string | undefined {
  const parent = parseTraceparent(delivery.properties.headers?.[TRACEPARENT_HEADER]);
  return parent ? childTraceContext(parent).traceId : undefined;
}

/** The same message again, marked as having been through `redeliveries` delay queues. */
export function delayedCopyProperties(delivery: ConsumeMessage, redeliveries: number): Options.Publish {
  const { userId: _userId, deliveryMode: _mode, headers = {}, ...properties } = delivery.properties;
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !BROKER_DEATH_HEADERS.includes(name)));
  return {
    ...withoutUndefined(properties),
    persistent: true,
    mandatory: true,
    headers: { ...kept, [HEADERS.redeliveries]: redeliveries },
  };
}

export function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
