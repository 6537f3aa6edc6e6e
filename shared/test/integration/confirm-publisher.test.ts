import { type Broker, ConfirmPublisher, connectBroker } from '@notify/shared/platform';
import { getOne, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import type { Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

describe('ConfirmPublisher on a real broker', () => {
  const prefix = uniquePrefix('publisher');
  const exchange = `${prefix}events`;
  const missingExchange = `${prefix}missing`;
  const queues = { afterReopen: `${prefix}after-reopen`, direct: `${prefix}direct` };
  // Never to appear in a log line, whatever happens to the message.
  const content = Buffer.from(`{"body":"${prefix}content"}`);
  const logs = captureLogs();
  const publisher = new ConfirmPublisher(logs.log, {
    confirmTimeoutMs: 5_000,
    reopenDelayMs: 50,
    assertExchanges: [{ name: exchange, type: 'topic', options: { durable: false } }],
  });
  let readyCount = 0;
  publisher.onReady(() => {
    readyCount += 1;
  });
  let broker: Broker;
  // Stands in for a consumer's channel on the same connection: a refused publish must not close it.
  let consumerChannel: Channel;
  let consumerChannelClosed = false;
  let disconnects = 0;

  beforeAll(async () => {
    broker = await connectBroker(
      { url: inject('amqpUrl'), connectionName: 'confirm-publisher-test' },
      logs.log,
      async (model) => {
        await publisher.attach(model);
        const channel = await model.createChannel();
        channel.on('error', () => undefined);
        channel.on('close', () => {
          consumerChannelClosed = true;
        });
        for (const queue of Object.values(queues)) await channel.assertQueue(queue, { durable: false });
        consumerChannel = channel;
      },
    );
    broker.connection.on('disconnect', () => {
      disconnects += 1;
    });
  });

  afterAll(async () => {
    for (const queue of Object.values(queues)) await consumerChannel.deleteQueue(queue).catch(() => undefined);
    await consumerChannel.deleteExchange(exchange).catch(() => undefined);
    publisher.close();
    await broker.close();
  });

  it('When a publish goes to a missing exchange, then it is refused, only the publisher channel closes and reopens', async () => {
    const opensBefore = readyCount;

    const refused = await publisher.publish({ exchange: missingExchange, routingKey: 'any', content });
    await waitFor(() => (readyCount > opensBefore ? true : undefined), { what: 'the publisher channel to reopen' });
    const next = await publisher.publish({ exchange: '', routingKey: queues.afterReopen, content });

    expect(refused).toEqual({
      status: 'refused',
      reason: `NOT_FOUND - no exchange '${missingExchange}' in vhost '/'`,
    });
    expect(next).toEqual({ status: 'published' });
    expect(consumerChannelClosed).toBe(false);
    expect((await consumerChannel.checkQueue(queues.afterReopen)).messageCount).toBe(1);
    expect(disconnects).toBe(0);
    expect(broker.isConnected()).toBe(true);
    expect(JSON.stringify(logs.lines)).not.toContain(`${prefix}content`);
  });

  it('When a message reaches no queue, then it is refused with the return reason', async () => {
    const outcome = await publisher.publish({
      exchange,
      routingKey: 'nobody.listens',
      content,
      properties: { messageId: `${prefix}unroutable` },
    });

    expect(outcome).toEqual({ status: 'refused', reason: 'returned: 312 NO_ROUTE' });
    expect(JSON.stringify(logs.lines)).not.toContain(`${prefix}content`);
  });

  it('When a message goes through the default exchange to a queue name, then it is published into that queue', async () => {
    const messageId = `${prefix}direct`;

    const outcome = await publisher.publish({
      exchange: '',
      routingKey: queues.direct,
      content,
      properties: { messageId, persistent: true },
    });

    expect(outcome).toEqual({ status: 'published' });
    const delivered = await getOne(consumerChannel, queues.direct);
    expect(delivered.properties.messageId).toBe(messageId);
    expect(delivered.content.equals(content)).toBe(true);
  });
});
