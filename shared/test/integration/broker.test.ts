import { connectBroker } from '@notify/shared/platform';
import { describe, expect, inject, it } from 'vitest';
import { captureLogs } from '../../../test-support/logger.js';

describe('connectBroker', () => {
  it('When the broker answers, then setup runs on the new connection and close ends it', async () => {
    const { log } = captureLogs();
    let setupRuns = 0;

    const broker = await connectBroker(
      { url: inject('amqpUrl'), connectionName: 'broker-test' },
      log,
      async (model) => {
        const channel = await model.createChannel();
        await channel.close();
        setupRuns += 1;
      },
    );

    expect(setupRuns).toBe(1);
    expect(broker.isConnected()).toBe(true);
    await broker.close();
  });

  it('When nothing listens at the URL, then it fails naming the URL without its password', async () => {
    const { log, lines } = captureLogs();

    const attempt = connectBroker(
      { url: 'amqp://guest:hunter2@127.0.0.1:1', connectionName: 'broker-test', initialRetries: 0 },
      log,
      async () => undefined,
    );

    await expect(attempt).rejects.toThrow('RabbitMQ did not answer at amqp://guest:***@127.0.0.1:1');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});
