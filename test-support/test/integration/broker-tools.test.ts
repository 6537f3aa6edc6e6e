import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openTestBroker, type TestBroker, uniquePrefix } from '../../broker.js';
import { drainQueue, publishConfirmed } from '../../system/broker-tools.js';

describe('publishConfirmed', () => {
  const prefix = uniquePrefix('broker-tools');
  const exchange = `${prefix}events`;
  const queue = `${prefix}queue`;
  let broker: TestBroker;

  beforeAll(async () => {
    broker = await openTestBroker();
    await broker.channel.assertExchange(exchange, 'topic', { durable: false });
    await broker.channel.assertQueue(queue, { durable: false });
    await broker.channel.bindQueue(queue, exchange, 'routed');
  });

  afterAll(async () => {
    await broker.channel.deleteQueue(queue);
    await broker.channel.deleteExchange(exchange);
    await broker.close();
  });

  it('When every message can be routed, then it resolves and each is in the queue', async () => {
    const ids = [`${prefix}a`, `${prefix}b`];

    await publishConfirmed(
      inject('amqpUrl'),
      ids.map((messageId) => ({ exchange, routingKey: 'routed', content: Buffer.from('{}'), options: { messageId } })),
    );

    const taken = await drainQueue(inject('amqpUrl'), queue);
    expect(taken.map((message) => message.properties.messageId)).toEqual(ids);
  });

  it('When a message reaches no queue, then it throws naming that message and why', async () => {
    const attempt = publishConfirmed(inject('amqpUrl'), [
      { exchange, routingKey: 'routed', content: Buffer.from('{}'), options: { messageId: `${prefix}c` } },
      { exchange, routingKey: 'nowhere', content: Buffer.from('{}'), options: { messageId: `${prefix}d` } },
    ]);

    await expect(attempt).rejects.toThrow('1 of 2 messages not published: #1 refused (returned: 312 NO_ROUTE)');
    await drainQueue(inject('amqpUrl'), queue);
  });
});
