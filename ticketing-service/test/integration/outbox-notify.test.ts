import { randomBytes } from 'node:crypto';
import { topologyNames } from '@notify/shared';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listenForOutboxRows, type OutboxListener } from '../../src/db/outbox-listener.js';
import { OUTBOX_CHANNEL } from '../../src/db/outbox-repository.js';
import type { TicketingService } from '../../src/service.js';
import {
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  openPool,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

// Polls far apart: only a notification can wake a relay within these tests.
const NEVER_POLL = { OUTBOX_POLL_INTERVAL_MS: '600000' };

describe('ticketing outbox: instances wake each other', () => {
  const prefix = uniquePrefix('ticketing-notify');
  const services: TicketingService[] = [];
  const listeners: OutboxListener[] = [];
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'notify');
  });

  afterAll(async () => {
    for (const listener of listeners) await listener.close();
    for (const service of services) await service.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
  });

  it('When a row is written through instance A whose relay is stopped, then instance B publishes it without waiting for its poll', async () => {
    const a = await startService(testConfig(prefix, NEVER_POLL));
    services.push(a);
    const bLogs = captureLogs('info');
    const b = await startService(testConfig(prefix, NEVER_POLL), bLogs.log);
    services.push(b);
    await bLogs.waitFor('outbox listener listening');
    await waitFor(async () => ((await apiClient(b).get('/readyz')).body.broker === 'up' ? true : undefined), {
      what: 'instance B to reach the broker',
    });
    await a.relay.stop();
    const api = apiClient(a);
    const { cartId } = await api.createCart();

    const added = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

    expect(added.status).toBe(201);
    const trackingId = added.body.notification.trackingId as string;
    const [message] = await collectMessages(broker.channel, queue, [trackingId], 10_000);
    expect(message?.properties.messageId).toBe(trackingId);
  });

  it('When the listening connection is cut, then it listens again, catches up once, and hears the next commit', async () => {
    const { log, find, waitFor: waitForLog } = captureLogs('info');
    const applicationName = `outbox-listener-test-${randomBytes(4).toString('hex')}`;
    const exchange = `${prefix}listener-test`;
    let wakes = 0;
    listeners.push(
      listenForOutboxRows(
        { databaseUrl: inject('databaseUrl'), applicationName, exchange, reconnectDelayMs: 100 },
        { log, onRows: () => (wakes += 1) },
      ),
    );
    await waitForLog('outbox listener listening');
    expect(wakes).toBe(1);

    await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);

    await waitFor(() => (find('outbox listener listening').length === 2 ? true : undefined), {
      what: 'the listener to listen again',
    });
    expect(find('outbox listener lost its database connection; relay polls until it is back')).toHaveLength(1);
    expect(wakes).toBe(2);
    // One commit: both arrive together, in order; the other topology's must wake nothing.
    await pool.query('SELECT pg_notify($1, $2), pg_notify($1, $3)', [
      OUTBOX_CHANNEL,
      `${prefix}another-topology`,
      exchange,
    ]);
    await waitFor(() => (wakes >= 3 ? true : undefined), { what: 'the commit to wake the relay' });
    expect(wakes).toBe(3);
  });

  it('When an announcement gets no answer, then the listener gives up the silent session and listens again on a new one', async () => {
    const { log, find, waitFor: waitForLog } = captureLogs('info');
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    const settings = { applicationName: 'outbox-listener-silent', exchange: `${prefix}silent`, reconnectDelayMs: 100 };
    const listener = listenForOutboxRows(
      { ...settings, databaseUrl: viaProxy, timeoutMs: 300 },
      { log, onRows: () => undefined },
    );
    listeners.push(listener);
    try {
      await waitForLog('outbox listener listening');

      proxy.blackhole();
      listener.announce();
      await waitForLog('outbox listener lost its database connection; relay polls until it is back');
      proxy.restore();

      // A session resumed after the blackhole would never log this again: only a new one does.
      await waitFor(() => (find('outbox listener listening').length === 2 ? true : undefined), {
        what: 'the listener to listen on a new session',
      });
    } finally {
      await listener.close();
      await proxy.close();
    }
  });

  it('When the listening session goes silent while the instance announces nothing, then the listener finds out by itself and listens again on a new session', async () => {
    const { log, find, waitFor: waitForLog } = captureLogs('info');
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    const settings = { applicationName: 'outbox-listener-quiet', exchange: `${prefix}quiet`, reconnectDelayMs: 100 };
    const listener = listenForOutboxRows(
      { ...settings, databaseUrl: viaProxy, timeoutMs: 300, idleCheckMs: 200 },
      { log, onRows: () => undefined },
    );
    listeners.push(listener);
    try {
      await waitForLog('outbox listener listening');

      // No commit on this instance: no announcement of its own would ever meet the silence.
      proxy.blackhole();
      await waitForLog('outbox listener lost its database connection; relay polls until it is back', 5_000);
      proxy.restore();

      await waitFor(() => (find('outbox listener listening').length === 2 ? true : undefined), {
        what: 'the listener to listen on a new session',
      });
    } finally {
      await listener.close();
      await proxy.close();
    }
  });

  /** A session of the test's own on the outbox channel: what every other instance would hear. */
  async function overhear(exchange: string) {
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    client.on('error', () => undefined);
    const heard: { processId: number }[] = [];
    client.on('notification', ({ channel, payload, processId }) => {
      if (channel === OUTBOX_CHANNEL && payload === exchange) heard.push({ processId });
    });
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    return { heard, close: () => client.end() };
  }

  it('When commits come in a burst, then the others hear of them from the instance’s listening session, never from a request’s transaction', async () => {
    const capture = captureLogs('info');
    const a = await startService(testConfig(prefix, NEVER_POLL), capture.log);
    services.push(a);
    await capture.waitFor('outbox listener listening');
    const others = await overhear(topologyNames(prefix).exchange);
    try {
      const api = apiClient(a);
      const carts = await Promise.all(Array.from({ length: 20 }, () => api.createCart()));
      const added = await Promise.all(
        carts.map(({ cartId }) => api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1)),
      );
      expect(added.map((response) => response.status)).toEqual(added.map(() => 201));
      await waitFor(() => (others.heard.length > 0 ? true : undefined), { what: 'an announcement' });

      const { rows } = await pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_notify%'
            AND application_name = 'ticketing-service'`,
      );
      const announcers = new Set(others.heard.map((notification) => notification.processId));
      expect(announcers.size).toBe(1);
      expect(rows.map((row) => row.pid)).toContain([...announcers][0]);
    } finally {
      await others.close();
    }
  });

  it('When commits keep coming, then announcements go out at most one per 50 ms, not one per round trip', async () => {
    const { log, waitFor: waitForLog } = captureLogs('info');
    const exchange = `${prefix}announce-rate-test`;
    const others = await overhear(exchange);
    const listener = listenForOutboxRows(
      {
        databaseUrl: inject('databaseUrl'),
        applicationName: 'outbox-announce-rate-test',
        exchange,
        reconnectDelayMs: 100,
      },
      { log, onRows: () => undefined },
    );
    listeners.push(listener);
    try {
      await waitForLog('outbox listener listening');
      const startedAt = Date.now();
      const until = startedAt + 500;
      let asked = 0;
      while (Date.now() < until) {
        listener.announce();
        asked += 1;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const ranMs = Date.now() - startedAt;
      // Until none has come for three gaps: the last goes out at most one gap after the last ask.
      let count = -1;
      await waitFor(
        () => {
          const settled = count > 0 && others.heard.length === count;
          count = others.heard.length;
          return settled ? true : undefined;
        },
        { intervalMs: 150, what: 'the announcements to stop' },
      );

      // At most one per 50 ms gap of the time it ran (and one more at each end), however many asks:
      // back to back, a round trip each, this was well over a hundred.
      expect(asked).toBeGreaterThan(50);
      expect(others.heard.length).toBeLessThanOrEqual(Math.floor(ranMs / 50) + 2);
    } finally {
      await others.close();
    }
  });

  it('When announcements are asked for while one is on its way, then they go out as one more, and the instance does not wake itself', async () => {
    const { log, waitFor: waitForLog } = captureLogs('info');
    const exchange = `${prefix}announce-test`;
    const others = await overhear(exchange);
    let wakes = 0;
    const listener = listenForOutboxRows(
      { databaseUrl: inject('databaseUrl'), applicationName: 'outbox-announce-test', exchange, reconnectDelayMs: 100 },
      { log, onRows: () => (wakes += 1) },
    );
    listeners.push(listener);
    try {
      await waitForLog('outbox listener listening');
      expect(wakes).toBe(1);

      for (let commit = 0; commit < 10; commit++) listener.announce();

      await waitFor(() => (others.heard.length >= 2 ? true : undefined), { what: 'two announcements' });
      // Time for any further one to arrive: there must be none.
      await pool.query('SELECT pg_sleep(0.3)');
      expect(others.heard).toHaveLength(2);
      expect(wakes).toBe(1);
    } finally {
      await others.close();
    }
  });
});
