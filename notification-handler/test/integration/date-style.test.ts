import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { testPool } from '@notify/test-support/pool.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listNotifications } from '../../src/db/notification-queries.js';
import { listReplayCandidates } from '../../src/db/replay-queries.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const DAY_MS = 86_400_000;
const ROWS = 5;

/**
 * A server whose DateStyle is not ISO (postgresql.conf, or ALTER DATABASE): PostgreSQL then prints a
 * timestamptz as `05/12/2026 08:20:56.136959 IST`, the zone by its abbreviation, which it reads back
 * by its own table of abbreviations (IST is Israel's there, +02, not India's +05:30).
 */
describe('pages where the database prints dates in another style (DateStyle)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_date_style`;
  let pool: pg.Pool;
  const email = `${randomUUID()}@example.com`;
  let ids: string[] = [];

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrate({ databaseUrl: url, dir: MIGRATIONS_DIR, schema: 'notifications' }, silentLogger);
    pool = testPool({ connectionString: url, max: 2, options: '-c DateStyle=SQL,DMY -c TimeZone=Asia/Kolkata' });
    // Failed notifications an hour apart, oldest first, each with microseconds.
    const { rows } = await pool.query<{ tracking_id: string }>(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at,
          created_at, updated_at)
       SELECT id, 'checkout.completed', $2, 'Buyer', jsonb_build_object('trackingId', id), 'failed', now(), now(),
              now() - make_interval(hours => $1 + 1 - n) + interval '0.000123 s', now()
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) AS n) AS history
       RETURNING tracking_id`,
      [ROWS, email],
    );
    ids = rows.map((row) => row.tracking_id);
  });
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When the status list is read a row per page, then every row comes once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listNotifications(pool, { email, limit: 1, cursor });
      seen.push(...page.items.map((item) => item.trackingId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen.length <= ROWS);

    expect(seen).toEqual([...ids].reverse());
  });

  it('When a bulk replay reads its range a row per page, then every candidate comes once, oldest first', async () => {
    const range = { status: 'failed' as const, from: new Date(Date.now() - 2 * DAY_MS), to: new Date(), limit: 1 };
    const seen: string[] = [];
    let after: Awaited<ReturnType<typeof listReplayCandidates>>['last'];
    do {
      const page = await listReplayCandidates(pool, range, DAY_MS, after);
      seen.push(...page.messages.map((message) => message.trackingId));
      after = page.last;
    } while (after && seen.length <= ROWS);

    expect(seen).toEqual(ids);
  });
});
