import { openTestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  outboxRows,
  outboxRowsForCart,
  ownDatabase,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;
/**
 * As long as the bound: a stop that waits out the read timeout of a request, then that of the
 * relay's, takes twice the bound; one that keeps to its shares takes about half of it.
 */
const READ_TIMEOUT_MS = SHUTDOWN_TIMEOUT_MS;
/** Well above what the stop takes (about 65 %: its half, then the listener and the pools), well below the bound. */
const STOP_LIMIT_MS = 0.85 * SHUTDOWN_TIMEOUT_MS;

/**
 * pg takes settings from the connection string over those the code passes, so the service's pools
 * get these read timeouts instead of their 11 s.
 */
function withReadTimeout(url: string): string {
  const shortened = new URL(url);
  shortened.searchParams.set('statement_timeout', String(READ_TIMEOUT_MS - 1_000));
  shortened.searchParams.set('query_timeout', String(READ_TIMEOUT_MS));
  return shortened.toString();
}

const database = ownDatabase('silent_db');

describe('ticketing service: shutdown with the database gone silent', () => {
  const prefix = uniquePrefix('ticketing');
  let url: string;
  let checks: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    url = await database.create();
    checks = new pg.Pool({ connectionString: url, max: 2 });
    checks.on('error', () => undefined);
    const broker = await openTestBroker();
    try {
      queue = await bindTestQueue(broker.channel, prefix, 'silent-db');
    } finally {
      await broker.close();
    }
  });

  afterAll(async () => {
    await checks?.end();
    await deleteTestTopology(prefix, [queue]);
    await database.drop();
  });

  /**
   * Starts the service through a proxy, sends a request that waits on a lock (and, with
   * `batchInFlight`, lets the relay's claim wait on one too), silences the proxy, then lets the
   * locks go: the server runs and commits what waited, and its answers stay in the proxy.
   */
  async function stopWithSilentDatabase({ batchInFlight }: { batchInFlight: boolean }) {
    const { proxy, url: viaProxy } = await proxyFor(withReadTimeout(url));
    const service = await startService(
      testConfig(prefix, {
        DATABASE_URL: viaProxy,
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        // Between batches the relay sleeps for good, unless it is to poll into the lock.
        OUTBOX_POLL_INTERVAL_MS: batchInFlight ? '200' : '600000',
      }),
    );
    const locker = new pg.Client({ connectionString: url });
    try {
      const api = apiClient(service);
      await waitFor(async () => ((await api.get('/readyz')).body.broker === 'up' ? true : undefined), {
        what: 'the service to reach the broker',
      });
      // The service then knows the ticket type, and the new cart: the request is its write alone,
      // which the server commits once the lock goes.
      const warmUp = await api.createCart();
      const warmUpAdded = await api.addTicket(warmUp.cartId, TICKET_TYPES.jazzStanding.id, 1);
      await waitUntilPublished(checks, [warmUpAdded.body.notification.trackingId]);
      const { cartId } = await api.createCart();
      await locker.connect();
      await locker.query('BEGIN');
      const locked = batchInFlight ? 'ticketing.carts, ticketing.outbox' : 'ticketing.carts';
      await locker.query(`LOCK TABLE ${locked} IN ACCESS EXCLUSIVE MODE`);
      const answer = api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1).then(
        (response) => response.status,
        () => 'no answer',
      );
      await waitForLockWaiters(batchInFlight ? 2 : 1);
      proxy.blackhole();
      await locker.query('COMMIT');

      const startedAt = Date.now();
      await service.stop();
      const stoppedInMs = Date.now() - startedAt;
      return { stoppedInMs, answer: await answer, cartId };
    } finally {
      await locker.end().catch(() => undefined);
      await service.stop();
      await proxy.close();
    }
  }

  function waitForLockWaiters(count: number) {
    return waitFor(
      async () => {
        const { rows } = await checks.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return (rows[0]?.waiting ?? 0) >= count ? true : undefined;
      },
      { what: `${count} sessions of the service waiting on the lock` },
    );
  }

  /** The cart's row is pending after the stop, and a service started on the database again publishes it. */
  async function expectPublishedAfterRestart(cartId: string) {
    const trackingIds = (await outboxRowsForCart(checks, cartId)).map((row) => row.trackingId);
    expect(trackingIds).toHaveLength(1);
    expect((await outboxRows(checks, trackingIds)).map((row) => row.publishedAt)).toEqual([null]);

    const restarted = await startService(testConfig(prefix, { DATABASE_URL: url }));
    try {
      await waitUntilPublished(checks, trackingIds);
    } finally {
      await restarted.stop();
    }
    const broker = await openTestBroker();
    try {
      await collectMessages(broker.channel, queue, trackingIds);
    } finally {
      await broker.close();
    }
  }

  it('When the database goes silent during a request while the relay sleeps, then the stop keeps within its bound, and the request got no 201 and its row is published after a restart', async () => {
    const { stoppedInMs, answer, cartId } = await stopWithSilentDatabase({ batchInFlight: false });

    // Not the request's read timeout, then the relay's last batch's.
    expect(stoppedInMs).toBeLessThan(STOP_LIMIT_MS);
    // Committed on the server, unseen by the service: no 201.
    expect(answer).not.toBe(201);
    await expectPublishedAfterRestart(cartId);
  }, 60_000);

  it('When the database goes silent during a request and a relay batch, then the stop keeps within its bound, and the request got no 201 and its row is published after a restart', async () => {
    const { stoppedInMs, answer, cartId } = await stopWithSilentDatabase({ batchInFlight: true });

    // Not the request's read timeout, then another batch's, tried after the first timed out.
    expect(stoppedInMs).toBeLessThan(STOP_LIMIT_MS);
    expect(answer).not.toBe(201);
    await expectPublishedAfterRestart(cartId);
  }, 60_000);
});
