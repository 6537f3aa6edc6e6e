import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimNotifications } from '../../src/db/notification-repository.js';
import { markReplayQueued } from '../../src/db/replay-queries.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const LOW_ID = '01a23379-0000-7000-8000-000000000001';
const HIGH_ID = '01a23379-ffff-7fff-bfff-ffffffffffff';

async function createRow(db: pg.Pool, trackingId: string): Promise<void> {
  const message = { ...buildMessage(), trackingId };
  await claimNotifications(db, [{ message, replay: false, claimToken: randomUUID() }], 60_000);
}

describe('marking replays as queued', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_replay_lock_order`;
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrate({ databaseUrl: url, dir: MIGRATIONS_DIR, schema: 'notifications' }, silentLogger);
    pool = createPool({ url, applicationName: 'replay-lock-order', maxConnections: 3 }, silentLogger);
    // The higher key first, so that the table's physical order is the reverse of the keys' order.
    await createRow(pool, HIGH_ID);
    await createRow(pool, LOW_ID);
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When the rows lie on disk against the order of their keys, then the mark still locks them in key order, as the claim does', async () => {
    const holder = await pool.connect();
    const marker = await pool.connect();
    try {
      // The plan PostgreSQL takes on a small table: a scan in physical order.
      await marker.query('SET enable_indexscan = off; SET enable_bitmapscan = off');
      const { rows } = await marker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const markerPid = rows[0]?.pid;

      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM notifications.notifications WHERE tracking_id = $1 FOR UPDATE', [HIGH_ID]);
      const mark = markReplayQueued(marker, [HIGH_ID, LOW_ID], new Date()).then(
        () => 'marked',
        (error: Error) => error.message,
      );
      await waitFor(
        async () => {
          const waiting = await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
            [markerPid],
          );
          return waiting.rowCount ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20, what: 'the mark to wait for the row held' },
      );

      // Waiting for the higher key, the mark holds the lower one already: nothing can wait for it
      // while holding the higher, as the claim would.
      const lowTaken = holder
        .query('SELECT 1 FROM notifications.notifications WHERE tracking_id = $1 FOR UPDATE NOWAIT', [LOW_ID])
        .then(
          () => 'free',
          (error: { code?: string }) => error.code,
        );
      expect(await lowTaken).toBe('55P03');

      await holder.query('ROLLBACK');
      expect(await mark).toBe('marked');
      const marked = await pool.query(
        'SELECT count(*)::int AS n FROM notifications.notifications WHERE replay_queued_at IS NOT NULL',
      );
      expect(marked.rows[0]?.n).toBe(2);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      marker.release(true);
    }
  }, 30_000);
});
