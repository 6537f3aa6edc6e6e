import { connectBroker, type Logger, redactUrl } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import type { ChannelModel } from 'amqplib';
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

    await expect(attempt).rejects.toThrow('could not connect to RabbitMQ at amqp://guest:***@127.0.0.1:1');
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

  /**
   * A broker behind a proxy whose first setup waits until `release()`, then runs `finish` on its
   * connection; the setups after it do nothing.
   */
  async function brokerWithHeldFirstSetup(log: Logger, finish: (model: ChannelModel) => Promise<void>) {
    const { proxy, url } = await proxyFor(inject('amqpUrl'));
    let setups = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstModel: (model: ChannelModel) => void = () => undefined;
    const first = new Promise<ChannelModel>((resolve) => {
      firstModel = resolve;
    });
    const broker = await connectBroker(
      { url, connectionName: 'broker-test', awaitFirstConnection: false },
      log,
      async (model) => {
        setups += 1;
        if (setups > 1) return;
        firstModel(model);
        await held;
        await finish(model);
      },
    );
    const close = async () => {
      await broker.close();
      await proxy.close();
    };
    return { proxy, broker, setups: () => setups, first, release, close };
  }

  it('When the connection fails while setup runs, then the error is heard, and setup runs again on the next connection', async () => {
    const { log, waitFor } = captureLogs();
    const held = await brokerWithHeldFirstSetup(log, async (model) => {
      await model.createChannel();
    });

    try {
      await held.first;
      // The model has no listener of amqplib's own until setup ends: unheard, the socket's error
      // would be thrown out of its event handler and end the process.
      held.proxy.cut();
      await waitFor('broker connection error while setting up');
      held.proxy.restore();
      held.release();
      await expect.poll(() => held.broker.isConnected(), { timeout: 10_000 }).toBe(true);
      expect(held.setups()).toBe(2);
    } finally {
      await held.close();
    }
  });

  it('When the connection closes while setup runs and setup carries on regardless, then the next connection is set up', async () => {
    const { log } = captureLogs();
    // As the consumer does when its channel dies under a consume: it logs and resolves.
    const held = await brokerWithHeldFirstSetup(log, async () => undefined);

    try {
      const model = await held.first;
      // Not events.once: the socket's reset comes as 'error' first, which would reject it.
      const firstClosed = new Promise<void>((resolve) => model.once('close', () => resolve()));
      held.proxy.cut();
      await firstClosed;
      held.proxy.restore();
      held.release();
      await expect.poll(() => held.setups(), { timeout: 10_000 }).toBe(2);
      await expect.poll(() => held.broker.isConnected(), { timeout: 10_000 }).toBe(true);
    } finally {
      await held.close();
    }
  });

  it('When the service stops while setup runs, then an error of that connection while amqplib closes it is heard', async () => {
    const { log, find } = captureLogs();
    const held = await brokerWithHeldFirstSetup(log, async () => undefined);

    try {
      const model = await held.first;
      // amqplib does not take up a connection stopped during its setup: it closes it, and listens
      // for nothing on it meanwhile.
      await held.broker.close();
      // The broker never answers the close, and the socket then fails: a reset, as a broker that
      // goes away at that moment gives (a missed heartbeat ends such a close the same way).
      held.proxy.blackhole();
      const closed = new Promise<void>((resolve) => model.once('close', () => resolve()));
      held.release();
      // Setup ends, and amqplib sends its close, within the microtasks after the release.
      await new Promise((resolve) => setTimeout(resolve, 50));
      held.proxy.cut();
      // Unheard, the reset would have been thrown out of the socket's event handler, and the
      // connection would never have closed.
      await closed;

      expect(find('broker connection error while closing')).toHaveLength(1);
    } finally {
      await held.close();
    }
  });
});
