import { decodeNotification, encodeNotification } from '@notify/shared';
import { getOne, openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('shared codec over a real broker', () => {
  let broker: TestBroker;
  const prefix = uniquePrefix('codec');
  const exchange = `${prefix}ticketing.events`;
  const queue = `${prefix}notifications.email`;

  beforeAll(async () => {
    broker = await openTestBroker();
    await broker.channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: true });
    await broker.channel.assertQueue(queue, { durable: false, autoDelete: true });
    await broker.channel.bindQueue(queue, exchange, 'checkout.completed');
  });

  afterAll(async () => {
    await broker.channel.deleteQueue(queue);
    await broker.channel.deleteExchange(exchange);
    await broker.close();
  });

  it('When a message is published with the shared encoder, then the consumer decodes the same message', async () => {
    const message = buildMessage('checkout.completed');
    const { routingKey, content, properties } = encodeNotification(message, 'codec-test');

    broker.channel.publish(exchange, routingKey, content, properties);
    const delivered = await getOne(broker.channel, queue);

    expect(delivered.properties.messageId).toBe(message.trackingId);
    expect(delivered.properties.type).toBe('checkout.completed');
    expect(delivered.properties.deliveryMode).toBe(2);
    expect(decodeNotification(delivered)).toEqual({ ok: true, message });
  });
});
