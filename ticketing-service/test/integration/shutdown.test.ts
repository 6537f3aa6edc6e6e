import { openTestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
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

/** Long enough that one confirm timeout and two stand well apart on a busy machine. */
const RELAY_CONFIRM_TIMEOUT_MS = 3_000;

describe('ticketing service: shutdown', () => {
  const prefix = uniquePrefix('ticketing');
  let pool: pg.Pool;

  beforeAll(() => {
    pool = openPool();
  });

  let queue: string;

  beforeAll(async () => {
    const broker = await openTestBroker();
    try {
      queue = await bindTestQueue(broker.channel, prefix, 'shutdown');
    } finally {
      await broker.close();
    }
  });

  afterAll(async () => {
    await pool?.end();
    await deleteTestTopology(prefix, [queue]);
  });

  /** Resolves once some session waits for a lock that `holder` holds. */
  async function someoneWaitsOn(holder: pg.PoolClient): Promise<void> {
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await waitFor(
      async () => {
        const waiting = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [rows[0]!.pid],
        );
        return waiting.rows[0]!.n > 0 ? true : undefined;
      },
      { what: 'the request to wait on the cart lock' },
    );
  }

  it('When the service stops during a request, then that request completes and new ones are not served', async () => {
    const service = await startService(testConfig(prefix));
    const api = apiClient(service);
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM ticketing.carts WHERE id = $1 FOR UPDATE', [cartId]);
      const inFlight = api.checkout(cartId);
      await someoneWaitsOn(holder);

      const stopped = service.stop();
      const late = await api.get('/healthz').then(
        (response) => response.status,
        () => 'refused',
      );
      await holder.query('COMMIT');

      expect([503, 'refused']).toContain(late);
      expect((await inFlight).status).toBe(201);
      await stopped;
    } finally {
      holder.release();
    }
  });

  it('When the service stops right after a request committed, then the message of that request is published before it exits', async () => {
    // The relay polls far apart and lingers after a wake-up: only the stop can publish the row in time.
    const service = await startService(
      testConfig(prefix, { OUTBOX_POLL_INTERVAL_MS: '600000', OUTBOX_BATCH_LINGER_MS: '1000' }),
    );
    const api = apiClient(service);
    // The service does not wait for the broker to start; the relay can publish only once it is up.
    await waitFor(async () => ((await api.get('/readyz')).body.broker === 'up' ? true : undefined), {
      what: 'the publisher to be ready',
    });
    const { cartId } = await api.createCart();
    const added = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

    await service.stop();

    expect(added.status).toBe(201);
    expect(await outboxRows(pool, [added.body.notification.trackingId])).toEqual([
      expect.objectContaining({ publishedAt: expect.any(Date) }),
    ]);
  });

  it('When a client leaves during a request and the service stops, then the request still commits and its message is published before it exits', async () => {
    // The relay polls far apart and lingers after a wake-up: only the stop can publish the row in time.
    const logs = captureLogs();
    const service = await startService(
      testConfig(prefix, { OUTBOX_POLL_INTERVAL_MS: '600000', OUTBOX_BATCH_LINGER_MS: '1000', LOG_LEVEL: 'debug' }),
      logs.log,
    );
    const api = apiClient(service);
    await waitFor(async () => ((await api.get('/readyz')).body.broker === 'up' ? true : undefined), {
      what: 'the publisher to be ready',
    });
    const { cartId } = await api.createCart();
    const serverClosed = () => logs.find('closed').some((line) => line.resource === 'http server');
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM ticketing.carts WHERE id = $1 FOR UPDATE', [cartId]);
      const leaving = new AbortController();
      const request = fetch(`${service.url}/carts/${cartId}/tickets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 1 }),
        signal: leaving.signal,
      }).catch(() => 'left');
      await someoneWaitsOn(holder);
      leaving.abort();
      expect(await request).toBe('left');

      const stopped = service.stop();
      // Once nothing answers, the server has closed: its last connection is gone, the command is not.
      await waitFor(async () => ((await api.get('/healthz').catch(() => undefined)) ? undefined : true), {
        what: 'the server to stop answering',
      });
      // The stop goes no further (the listener, then the relay's last batch) while the command runs.
      await expect(
        waitFor(() => (serverClosed() ? true : undefined), { timeoutMs: 1_000, what: 'the HTTP closer to finish' }),
      ).rejects.toThrow(/timed out/);
      await holder.query('COMMIT');
      await stopped;
      expect(serverClosed()).toBe(true);
    } finally {
      holder.release();
    }

    const { rows } = await pool.query(
      'SELECT published_at FROM ticketing.outbox WHERE convert_from(content, $2) LIKE $1',
      [`%${cartId}%`, 'UTF8'],
    );
    expect(rows).toEqual([{ published_at: expect.any(Date) }]);
  });

  it('When the broker went silent while a batch awaited its confirms, then the relay stops once that batch timed out, without waiting out a last batch', async () => {
    const { proxy, url: viaProxy } = await proxyFor(inject('amqpUrl'));
    const service = await startService(
      testConfig(prefix, { AMQP_URL: viaProxy, OUTBOX_CONFIRM_TIMEOUT_MS: String(RELAY_CONFIRM_TIMEOUT_MS) }),
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
      // wait out a second timeout, past a shutdown bound sized for one. Halfway between the two.
      expect(stoppedInMs).toBeLessThan(1.5 * RELAY_CONFIRM_TIMEOUT_MS);
      // Not lost: the row waits, pending, for the next relay.
      expect((await outboxRows(pool, [trackingId])).map((row) => row.publishedAt)).toEqual([null]);
    } finally {
      await service.stop();
      await proxy.close();
    }
  });
});
