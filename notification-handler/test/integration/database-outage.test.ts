import { buildMessage } from '@notify/test-support/messages.js';
import { proxyFor, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('database outage (readiness and state)', () => {
  let proxy: TcpProxy;
  let harness: Harness;

  beforeAll(async () => {
    let throughProxy: string;
    ({ proxy, url: throughProxy } = await proxyFor(inject('databaseUrl')));
    harness = await startHarness('db-outage', { DATABASE_URL: throughProxy });
  });
  afterAll(async () => {
    await harness?.stop();
    await proxy?.close();
  });

  const readiness = async () => (await harness.api('/readyz')).status;

  it('When the database goes away, then readiness is 503 naming it, and 200 again once it is back', async () => {
    expect(await readiness()).toBe(200);

    proxy.cut();
    const down = await waitFor(async () => {
      const response = await harness.api('/readyz');
      return response.status === 503 ? response.body : undefined;
    });
    proxy.restore();

    expect(down).toMatchObject({ database: 'down', broker: 'up' });
    await waitFor(async () => ((await readiness()) === 200 ? true : undefined), { what: 'readiness back to 200' });
  });

  it('When the database goes away, then consumption pauses, the message in flight is held and the next waits in the queue; once it is back, both are sent once', async () => {
    const inFlight = buildMessage();
    const queued = buildMessage();
    proxy.cut();

    harness.publish(inFlight);
    await waitFor(() => (harness.handler.consumer.pausedBy().includes('database') ? true : undefined), {
      what: 'consumption to pause for the database',
    });
    harness.publish(queued);
    // Left in the queue: nothing consumes it while the database is away.
    await waitFor(async () => {
      const { messageCount } = await harness.broker.channel.checkQueue(harness.topology.queue);
      return messageCount === 1 ? true : undefined;
    });
    const consumingDuringOutage = harness.handler.consumer.isConsuming();
    const health = await harness.api('/healthz');
    proxy.restore();

    expect(consumingDuringOutage).toBe(false);
    expect(health.body).toMatchObject({ status: 'ok', pausedBy: ['database'] });
    expect(await harness.settled(inFlight.trackingId)).toMatchObject({ status: 'sent', attemptCount: 1 });
    expect(await harness.settled(queued.trackingId)).toMatchObject({ status: 'sent', attemptCount: 1 });
    for (const message of [inFlight, queued]) {
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
      expect(harness.decisions.filter((d) => d.trackingId === message.trackingId)).toEqual([
        expect.objectContaining({ kind: 'acked', trackingId: message.trackingId, outcome: 'sent' }),
      ]);
    }
    expect(harness.handler.consumer.isConsuming()).toBe(true);
  });
});
