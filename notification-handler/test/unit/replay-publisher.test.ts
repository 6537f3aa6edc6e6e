import { decodeNotification, topologyNames } from '@notify/shared';
import type { OutgoingMessage } from '@notify/shared/platform';
import { buildMessage } from '@notify/test-support/messages.js';
import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { readDelivery } from '../../src/messaging/delivery-headers.js';
import { replayPublisher } from '../../src/messaging/replay-publisher.js';

/** What a consumer would receive for a published message. */
function received(message: OutgoingMessage): ConsumeMessage {
  return {
    content: message.content,
    properties: message.properties,
    fields: { routingKey: message.routingKey, exchange: message.exchange },
  } as unknown as ConsumeMessage;
}

describe('replayPublisher', () => {
  it('When a notification is replayed, then it goes to our own queue only, marked as a replay whose deadline counts from the request', async () => {
    const topology = topologyNames('replay-unit');
    const published: OutgoingMessage[] = [];
    const requeue = replayPublisher(
      async (message) => {
        published.push(message);
        return { status: 'published' };
      },
      topology,
      'notification-handler',
    );
    const message = buildMessage('ticket.added_to_checkout');
    const requestedAt = new Date('2026-12-02T10:00:00.000Z');

    expect(await requeue(message, requestedAt)).toEqual({ status: 'published' });

    expect(published).toHaveLength(1);
    const [sent] = published as [OutgoingMessage];
    expect({ exchange: sent.exchange, routingKey: sent.routingKey }).toEqual({
      exchange: '',
      routingKey: topology.queue,
    });
    const decoded = decodeNotification(received(sent));
    if (!decoded.ok) throw new Error(`the replayed message does not decode: ${JSON.stringify(decoded.error)}`);
    expect(decoded.message).toEqual(message);
    const delivery = readDelivery(decoded.message, received(sent));
    expect(delivery.replay).toBe(true);
    expect(delivery.deadlineFrom).toEqual(requestedAt);
  });
});
