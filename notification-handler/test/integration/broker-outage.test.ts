import { buildMessage } from '@notify/test-support/messages.js';
import { proxyFor, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('broker trouble (state and readiness)', () => {
  let proxy: TcpProxy;
  let harness: Harness;

  beforeAll(async () => {
    let throughProxy: string;
    ({ proxy, url: throughProxy } = await proxyFor(inject('amqpUrl')));
    harness = await startHarness('broker-outage', { AMQP_URL: throughProxy });
  });
  afterAll(async () => {
    await harness?.stop();
    await proxy?.close();
  });

  const ready = async () => ((await harness.api('/readyz')).status === 200 ? true : undefined);

  it('When the broker connection drops, then the handler reconnects by itself and consumes again', async () => {
    proxy.cut();
    await waitFor(async () => ((await harness.api('/readyz')).status === 503 ? true : undefined), {
      what: 'readiness to notice the lost broker',
    });
    proxy.restore();
    await waitFor(ready, { timeoutMs: 20_000, what: 'the handler to reconnect' });

    const message = buildMessage();
    harness.publish(message);

    expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    expect(harness.logs.find('broker connection lost; reconnecting').length).toBeGreaterThan(0);
  });

  it('When the broker cancels the consumer (its queue was deleted), then the consumer is set up again', async () => {
    const consumersBefore = harness.logs.find('consuming').length;

    await harness.broker.channel.deleteQueue(harness.topology.queue);
    await waitFor(() => (harness.logs.find('consuming').length > consumersBefore ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the consumer to be set up again',
    });
    const message = buildMessage();
    harness.publish(message);

    expect(harness.logs.find('setting the consumer up again').at(-1)).toMatchObject({
      reason: 'consumer cancelled by the broker',
    });
    expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
  });
});

describe('a broker that goes silent (shutdown)', () => {
  let proxy: TcpProxy;
  let harness: Harness;

  beforeAll(async () => {
    let throughProxy: string;
    ({ proxy, url: throughProxy } = await proxyFor(inject('amqpUrl')));
    harness = await startHarness('broker-silent', { AMQP_URL: throughProxy, SHUTDOWN_TIMEOUT_MS: '8000' });
  });
  afterAll(async () => {
    await harness?.stop();
    await proxy?.close();
  });

  it('When the broker stops answering, then the handler still stops within SHUTDOWN_TIMEOUT_MS, every resource closed', async () => {
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);
    proxy.blackhole();

    const startedAt = Date.now();
    await harness.stopHandler();

    // The heartbeat would notice the silence after two missed beats (20 s): the stop must not wait for it.
    expect(Date.now() - startedAt).toBeLessThan(8_000);
    const closed = harness.logs.find('closed').map((line) => line.resource);
    expect(closed).toEqual(expect.arrayContaining(['consumer', 'broker connection', 'database pool']));
    proxy.restore();
  });
});
