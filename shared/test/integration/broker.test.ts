import { connectBroker, redactUrl } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { describe, expect, inject, it } from 'vitest';

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

  it('When the first node of the list does not answer, then it connects to the next, passwords hidden in every line', async () => {
    const { log, lines, find } = captureLogs();
    const dead = 'amqp://guest:hunter2@127.0.0.1:1';
    let setupRuns = 0;

    const broker = await connectBroker(
      { url: [dead, inject('amqpUrl')], order: 'as-given', connectionName: 'broker-test', initialRetries: 0 },
      log,
      async () => {
        setupRuns += 1;
      },
    );

    try {
      expect(broker.isConnected()).toBe(true);
      expect(setupRuns).toBe(1);
      expect(find('broker connection attempt failed')[0]).toMatchObject({ broker: 'amqp://guest:***@127.0.0.1:1' });
      expect(JSON.stringify(lines)).not.toContain('hunter2');
    } finally {
      await broker.close();
    }
  });

  it('When the node it is connected to goes away, then it reconnects to the next one and runs setup again', async () => {
    const { log, find, waitFor } = captureLogs();
    const { proxy, url: first } = await proxyFor(inject('amqpUrl'));
    const setups: number[] = [];
    const broker = await connectBroker(
      { url: [first, inject('amqpUrl')], order: 'as-given', connectionName: 'broker-test' },
      log,
      async (model) => {
        const channel = await model.createChannel();
        await channel.close();
        setups.push(proxy.openConnections);
      },
    );

    try {
      expect(setups).toEqual([1]);
      proxy.cut();
      await waitFor('broker connection lost; reconnecting');
      await expect.poll(() => setups.length, { timeout: 10_000 }).toBe(2);

      // The second setup ran on a connection that does not go through the cut proxy.
      expect(setups[1]).toBe(0);
      expect(broker.isConnected()).toBe(true);
      expect(find('broker connected').map((line) => line.broker)).toEqual([
        redactUrl(first),
        redactUrl(inject('amqpUrl')),
      ]);
    } finally {
      await broker.close();
      await proxy.close();
    }
  });

  it('When the connection fails while setup runs, then the error is heard, and setup runs again on the next connection', async () => {
    const { log, waitFor } = captureLogs();
    const { proxy, url } = await proxyFor(inject('amqpUrl'));
    let setups = 0;
    let releaseFirstSetup: () => void = () => undefined;
    const broker = await connectBroker(
      { url, connectionName: 'broker-test', awaitFirstConnection: false },
      log,
      async (model) => {
        setups += 1;
        if (setups > 1) return;
        await new Promise<void>((resolve) => {
          releaseFirstSetup = resolve;
        });
        await model.createChannel();
      },
    );

    try {
      await expect.poll(() => setups, { timeout: 10_000 }).toBe(1);
      // The model has no listener of amqplib's own until setup ends: unheard, the socket's error
      // would be thrown out of its event handler and end the process.
      proxy.cut();
      await waitFor('broker connection error while setting up');
      proxy.restore();
      releaseFirstSetup();
      await expect.poll(() => broker.isConnected(), { timeout: 10_000 }).toBe(true);
      expect(setups).toBe(2);
    } finally {
      await broker.close();
      await proxy.close();
    }
  });

  it('When the connection closes while setup runs and setup carries on regardless, then the next connection is set up', async () => {
    const { log } = captureLogs();
    const { proxy, url } = await proxyFor(inject('amqpUrl'));
    let setups = 0;
    let firstModelClosed: Promise<void> = Promise.resolve();
    let releaseFirstSetup: () => void = () => undefined;
    const broker = await connectBroker(
      { url, connectionName: 'broker-test', awaitFirstConnection: false },
      log,
      async (model) => {
        setups += 1;
        if (setups > 1) return;
        firstModelClosed = new Promise<void>((resolve) => model.once('close', () => resolve()));
        // As the consumer does when its channel dies under a consume: it logs and resolves.
        await new Promise<void>((resolve) => {
          releaseFirstSetup = resolve;
        });
      },
    );

    try {
      await expect.poll(() => setups, { timeout: 10_000 }).toBe(1);
      proxy.cut();
      await firstModelClosed;
      proxy.restore();
      releaseFirstSetup();
      await expect.poll(() => setups, { timeout: 10_000 }).toBe(2);
      await expect.poll(() => broker.isConnected(), { timeout: 10_000 }).toBe(true);
    } finally {
      await broker.close();
      await proxy.close();
    }
  });
});
