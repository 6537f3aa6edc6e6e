import { randomUUID } from 'node:crypto';
import { createPool } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOutboxBacklog } from '../../src/db/outbox-repository.js';
import { ownDatabase } from '../support/harness.js';

const EXCHANGE = 'backlog-test.events';

describe('the outbox backlog a scrape reads: pending rows counted in the order they are due, and the oldest of them', () => {
  const database = ownDatabase('outbox_backlog');
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await database.create();
    pool = createPool({ url, applicationName: 'outbox-backlog-test', maxConnections: 2 }, silentLogger);
    // The oldest row, refused by the broker, waits out a retry delay: it is due last. Then two
    // newer rows, due now, and one published, which is not pending.
    await pool.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, created_at, available_at, published_at)
       VALUES ($1, $5, 'ticket.added_to_checkout', '\\x7b7d', '{}', now() - interval '1 hour', now() + interval '30 seconds', NULL),
              ($2, $5, 'ticket.added_to_checkout', '\\x7b7d', '{}', now() - interval '2 minutes', now() - interval '2 minutes', NULL),
              ($3, $5, 'ticket.added_to_checkout', '\\x7b7d', '{}', now() - interval '1 minute', now() - interval '1 minute', NULL),
              ($4, $5, 'ticket.added_to_checkout', '\\x7b7d', '{}', now() - interval '2 hours', now() - interval '2 hours', now())`,
      [randomUUID(), randomUUID(), randomUUID(), randomUUID(), EXCHANGE],
    );
  });
  afterAll(async () => {
    await pool?.end();
    await database.drop();
  });

  it('When the cap is above the backlog, then every pending row is counted and the oldest is the one due last', async () => {
    const backlog = await readOutboxBacklog(pool, EXCHANGE, 10);

    expect(backlog.pending).toBe(3);
    expect(backlog.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(3_600);
    expect(backlog.oldestPendingAgeSeconds).toBeLessThan(7_200);
  });

  it('When the count stops at the cap before the row due last, then the oldest is still that row', async () => {
    for (const cap of [2, 3]) {
      const backlog = await readOutboxBacklog(pool, EXCHANGE, cap);

      expect(backlog.pending).toBe(cap);
      expect(backlog.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(3_600);
      expect(backlog.oldestPendingAgeSeconds).toBeLessThan(7_200);
    }
  });

  it('When nothing of the exchange is pending, then the backlog is empty', async () => {
    expect(await readOutboxBacklog(pool, 'backlog-test.other', 10)).toEqual({ pending: 0, oldestPendingAgeSeconds: 0 });
  });
});
