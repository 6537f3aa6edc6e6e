import { buildMessage } from '@notify/test-support/messages.js';
import { proxyFor, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('a database that goes silent (shutdown)', () => {
  let proxy: TcpProxy;
  let harness: Harness;

  beforeAll(async () => {
    let throughProxy: string;
    ({ proxy, url: throughProxy } = await proxyFor(inject('databaseUrl')));
    harness = await startHarness('db-silent', { DATABASE_URL: throughProxy, SHUTDOWN_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    proxy?.restore();
    await harness?.stop();
    await proxy?.close();
  });

  it('When the database stops answering while a delivery records its send, then the handler still stops within SHUTDOWN_TIMEOUT_MS, every resource closed', async () => {
    // The provider call takes a while: the database goes silent while it is out.
    harness.sandbox.faults.set({ latencyMs: 300 });
    const message = buildMessage();
    harness.publish(message);
    await waitFor(
      async () => {
        const { rows } = await harness.db.query<{ status: string }>(
          'SELECT status FROM notifications.notifications WHERE tracking_id = $1',
          [message.trackingId],
        );
        return rows[0]?.status === 'in_progress' ? true : undefined;
      },
      { intervalMs: 10, what: 'the delivery to claim its row' },
    );
    proxy.blackhole();

    const startedAt = Date.now();
    await harness.stopHandler();
    const stoppedInMs = Date.now() - startedAt;

    expect(stoppedInMs).toBeLessThan(5_000);
    const closed = harness.logs.find('closed').map((line) => line.resource);
    expect(closed).toEqual(expect.arrayContaining(['consumer', 'broker connection', 'database pool']));
  });
});
