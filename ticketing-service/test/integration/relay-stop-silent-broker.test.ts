import { openTestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  apiClient,
  bindTestQueue,
  deleteTestTopology,
  openPool,
  outboxRows,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

const CONFIRM_TIMEOUT_MS = 2_000;

describe('ticketing outbox relay: stopping while the broker is silent', () => {
  const prefix = uniquePrefix('ticketing-relay-stop');
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    pool = openPool();
    const broker = await openTestBroker();
    try {
      queue = await bindTestQueue(broker.channel, prefix, 'relay-stop');
    } finally {
      await broker.close();
    }
  });

  afterAll(async () => {
    await pool?.end();
    await deleteTestTopology(prefix, [queue]);
  });

  it('When the broker went silent while a batch awaited its confirms, then the relay stops once that batch timed out, without waiting out a last batch', async () => {
    const { proxy, url: viaProxy } = await proxyFor(inject('amqpUrl'));
    const service = await startService(
      testConfig(prefix, { AMQP_URL: viaProxy, OUTBOX_CONFIRM_TIMEOUT_MS: String(CONFIRM_TIMEOUT_MS) }),
    );
    const api = apiClient(service);
    try {
      await waitFor(async () => ((await api.get('/readyz')).body.broker === 'up' ? true : undefined), {
        what: 'the service to reach the broker',
      });
      proxy.blackhole();
      const { cartId } = await api.createCart();
      const added = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);
      expect(added.status).toBe(201);
      const trackingId = added.body.notification.trackingId as string;
      // The commit woke the relay: its batch is out, waiting for confirms that never come.
      await new Promise((resolve) => setTimeout(resolve, 200));

      const startedAt = Date.now();
      await service.relay.stop();
      const stoppedInMs = Date.now() - startedAt;

      // The batch in flight ends at its confirm timeout; another one into the same silence would
      // wait out a second timeout, past a shutdown bound sized for one.
      expect(stoppedInMs).toBeLessThan(CONFIRM_TIMEOUT_MS + 500);
      // Not lost: the row waits, pending, for the next relay.
      expect((await outboxRows(pool, [trackingId])).map((row) => row.publishedAt)).toEqual([null]);
    } finally {
      await service.stop();
      await proxy.close();
    }
  });
});
