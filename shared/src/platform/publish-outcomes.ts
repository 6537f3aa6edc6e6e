import type { Message } from 'amqplib';

/**
 * published: the broker confirmed it and routed it. refused: the broker answered no (a nack, a
 * return as unroutable, or the channel closed because the exchange does not exist). failed: no
 * answer (channel lost, confirm timeout): it may or may not have been routed. not_sent: never
 * handed to the broker.
 */
export type PublishOutcome =
  | { status: 'published' }
  | { status: 'refused' | 'failed'; reason: string }
  | { status: 'not_sent'; reason: string };

/**
 * What a 'return' can be matched on: basic.return carries the exchange and routing key it was
 * published with, and the message's properties, but no delivery tag.
 */
export function returnKey(exchange: string, routingKey: string, messageId: unknown): string {
  return JSON.stringify([exchange, routingKey, messageId === undefined ? null : String(messageId)]);
}

export function describeReturn(message: Message): string {
  const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
  return `returned: ${fields.replyCode ?? '?'} ${fields.replyText ?? 'unroutable'}`;
}

/**
 * The outcome of one publish from its confirm callback. RabbitMQ sends basic.return before the
 * confirm of the same message and still acks it: an ack after a return means it reached no queue.
 */
export function confirmOutcome(
  err: Error | null,
  sent: { exchange: string; returned: string | undefined },
  channelClosedBecause: Error | undefined,
): PublishOutcome {
  if (!err) return sent.returned === undefined ? { status: 'published' } : { status: 'refused', reason: sent.returned };
  if (err.message === 'message nacked') return { status: 'refused', reason: 'nacked by the broker' };
  const brokerSaid = channelClosedBecause && brokerReason(channelClosedBecause);
  if (brokerSaid && isMissingExchange(channelClosedBecause, sent.exchange))
    return { status: 'refused', reason: brokerSaid };
  return { status: 'failed', reason: brokerSaid ? `${err.message}: ${brokerSaid}` : err.message };
}

/** amqplib: `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange 'x' in vhost '/'"`. */
function brokerReason(err: Error): string | undefined {
  return /with message "(.*)"$/s.exec(err.message)?.[1];
}

function isMissingExchange(err: Error & { code?: unknown }, exchange: string): boolean {
  return err.code === 404 && brokerReason(err)?.includes(`no exchange '${exchange}' `) === true;
}
