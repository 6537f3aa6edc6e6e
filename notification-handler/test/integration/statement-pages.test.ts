import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createPool, migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { explainRun, pagesScanned, statementRecorder } from '@notify/test-support/statement-plans.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  claimNotifications,
  releaseLease,
  renewLease,
  settleNotifications,
} from '../../src/db/notification-repository.js';
import { countByStatus, OVERVIEW_COUNT_CAP } from '../../src/db/operator-queries.js';
import { listReplayCandidates } from '../../src/db/replay-queries.js';
import { replayRange } from '../../src/domain/replay-notification.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const BATCH = 200;
const DAY_MS = 86_400_000;
const SETTLED_BETWEEN_VACUUMS = 100_000;

/**
 * Notifications claimed then settled, as the handler writes them: each leaves its claimed version
 * behind, dead, with an entry in every index (the status index's `in_progress` range included)
 * until the next vacuum.
 */
async function settleHistory(pool: pg.Pool, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO notifications.notifications
       (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at,
        claim_token)
     SELECT gen_random_uuid(), 'checkout.completed', 'buyer@example.com', 'Buyer', '{}'::jsonb, 'in_progress',
            now() + interval '1 minute', now(), gen_random_uuid()
       FROM generate_series(1, $1)`,
    [count],
  );
  await pool.query(
    `UPDATE notifications.notifications SET status = 'sent', attempt_count = 1, sent_at = now(), updated_at = now()
      WHERE status = 'in_progress'`,
  );
}

/** Pages read per statement, planned for its parameters (custom) and as a generic plan. */
type Pages = Record<string, { rows: number; custom: number; generic: number }>;

/**
 * The pages that the handler's statements on claimed rows read from the notifications table and its
 * indexes: claiming a new batch, settling a claimed one, renewing and releasing one lease. Each
 * statement as the handler sends it, run and rolled back.
 */
async function pagesOfABatch(pool: pg.Pool): Promise<Pages> {
  const recorder = statementRecorder();
  const claimToken = randomUUID();
  const claimed = Array.from({ length: BATCH }, () => buildMessage());
  await claimNotifications(
    pool,
    claimed.map((message) => ({ message, replay: false, claimToken })),
    60_000,
  );
  const [first] = claimed;
  if (!first) throw new Error('no message');
  const startedAt = new Date();
  const rows = new Map<string, number>([
    ['claim', BATCH],
    ['settle', BATCH],
    ['renew lease', 1],
    ['release lease', 1],
  ]);
  await recorder.record('claim', () =>
    claimNotifications(
      recorder.db,
      Array.from({ length: BATCH }, () => ({ message: buildMessage(), replay: false, claimToken: randomUUID() })),
      60_000,
    ),
  );
  await recorder.record('settle', () =>
    settleNotifications(
      recorder.db,
      claimed.map((message) => ({
        trackingId: message.trackingId,
        claimToken,
        status: 'sent' as const,
        attempt: { number: 1, startedAt, finishedAt: new Date(), outcome: 'sent' as const, httpStatus: 200 },
      })),
      60_000,
    ),
  );
  await recorder.record('renew lease', () => renewLease(recorder.db, first.trackingId, claimToken, 60_000));
  await recorder.record('release lease', () => releaseLease(recorder.db, first.trackingId, claimToken));
  const session = await pool.connect();
  try {
    const pages: Pages = {};
    for (const statement of recorder.statements) {
      const read = async (generic: boolean) =>
        pagesScanned(await explainRun(session, statement, { generic }), 'notifications');
      pages[statement.label] = {
        rows: rows.get(statement.label) ?? 0,
        custom: await read(false),
        generic: await read(true),
      };
    }
    return pages;
  } finally {
    session.release();
    // The batch is settled for good, so that the next history starts with no row in progress.
    await pool.query(`UPDATE notifications.notifications SET status = 'sent' WHERE status = 'in_progress'`);
  }
}

describe('hot statements of the handler (pages read between two vacuums)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_handler_pages`;
  let pool: pg.Pool;
  let afterVacuum: Pages;
  let beforeVacuum: Pages;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrate({ databaseUrl: url, dir: MIGRATIONS_DIR, schema: 'notifications' }, silentLogger);
    // Sessions as the handler opens them, with room for the history's statements.
    pool = createPool(
      { url, applicationName: 'statement-pages', maxConnections: 2, statementTimeoutMs: 120_000 },
      silentLogger,
    );
    await settleHistory(pool, SETTLED_BETWEEN_VACUUMS);
    await pool.query('VACUUM (ANALYZE) notifications.notifications');
    afterVacuum = await pagesOfABatch(pool);
    await settleHistory(pool, SETTLED_BETWEEN_VACUUMS);
    beforeVacuum = await pagesOfABatch(pool);
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it(`When ${SETTLED_BETWEEN_VACUUMS.toLocaleString('en')} notifications were settled since the last vacuum, then claiming, settling and leases read no more than right after one`, () => {
    // Equal plans read equal pages; a plan that walks the dead entries reads hundreds more.
    for (const [label, after] of Object.entries(afterVacuum)) {
      const before = beforeVacuum[label];
      expect(before?.custom, `${label}, planned for its parameters`).toBeLessThanOrEqual(after.custom * 1.25 + 5);
      expect(before?.generic, `${label}, generic plan`).toBeLessThanOrEqual(after.generic * 1.25 + 5);
    }
  });

  it('When the tables hold hundreds of thousands of rows, then each of those statements reads a few pages per row it touches', () => {
    for (const [label, pages] of [...Object.entries(afterVacuum), ...Object.entries(beforeVacuum)]) {
      expect(pages.custom, `${label}, planned for its parameters`).toBeLessThanOrEqual(pages.rows * 5 + 5);
      expect(pages.generic, `${label}, generic plan`).toBeLessThanOrEqual(pages.rows * 5 + 5);
    }
  });
});

describe('a bulk replay and the operator overview after a long outage (pages read, counts)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_replay_pages`;
  const FAILED_IN_RANGE = 20_000;
  const PAGE = 100;
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrate({ databaseUrl: url, dir: MIGRATIONS_DIR, schema: 'notifications' }, silentLogger);
    pool = createPool(
      { url, applicationName: 'replay-pages', maxConnections: 2, statementTimeoutMs: 120_000 },
      silentLogger,
    );
    // An outage's worth of failed notifications, a millisecond apart, in the hour before now.
    await pool.query(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at,
          created_at, updated_at)
       SELECT id, 'checkout.completed', 'buyer@example.com', 'Buyer', jsonb_build_object('trackingId', id), 'failed',
              now(), now(), now() - interval '1 hour' + make_interval(secs => n / 1000.0), now()
         FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) AS n) AS history`,
      [FAILED_IN_RANGE],
    );
    await pool.query('VACUUM (ANALYZE) notifications.notifications');
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it(`When ${FAILED_IN_RANGE.toLocaleString('en')} failed notifications are in the range, then a page of ${PAGE} candidates reads about its own rows, not the range`, async () => {
    const recorder = statementRecorder();
    const range = {
      status: 'failed' as const,
      from: new Date(Date.now() - 2 * 3_600_000),
      to: new Date(),
      limit: PAGE,
    };
    await recorder.record('candidates', () => listReplayCandidates(recorder.db, range, DAY_MS));
    const [statement] = recorder.statements;
    if (!statement) throw new Error('no statement recorded');

    const session = await pool.connect();
    try {
      for (const generic of [false, true]) {
        const pages = pagesScanned(await explainRun(session, statement, { generic }), 'notifications');
        // The range's rows fill a few hundred pages; a page of candidates fits in a handful.
        expect(pages, generic ? 'generic plan' : 'planned for its parameters').toBeLessThanOrEqual(PAGE / 4);
      }
    } finally {
      session.release();
    }
  });

  it(`When a status holds more rows than the overview counts, then the overview stops at ${OVERVIEW_COUNT_CAP.toLocaleString('en')} through the status index`, async () => {
    expect(FAILED_IN_RANGE).toBeGreaterThan(OVERVIEW_COUNT_CAP);

    const counts = await countByStatus(pool);

    expect(counts.failed).toEqual({ lastHour: OVERVIEW_COUNT_CAP, lastDay: OVERVIEW_COUNT_CAP });
    expect(counts.sent).toEqual({ lastHour: 0, lastDay: 0 });
    const recorder = statementRecorder();
    await recorder.record('overview counts', () => countByStatus(recorder.db));
    const [statement] = recorder.statements;
    if (!statement) throw new Error('no statement recorded');
    const session = await pool.connect();
    try {
      const plan = await explainRun(session, statement, { generic: false });
      expect(JSON.stringify(plan)).toContain('notifications_status_created_idx');
      expect(JSON.stringify(plan)).not.toContain('Seq Scan');
    } finally {
      session.release();
    }
  });

  it('When the range is read page after page, then every candidate comes once, oldest first', async () => {
    const range = {
      status: 'failed' as const,
      from: new Date(Date.now() - 2 * 3_600_000),
      to: new Date(),
      limit: 2_000,
    };
    const seen: string[] = [];
    let after: Awaited<ReturnType<typeof listReplayCandidates>>['last'];
    do {
      const page = await listReplayCandidates(pool, range, DAY_MS, after);
      seen.push(...page.messages.map((message) => message.trackingId));
      after = page.last;
    } while (after);

    expect(new Set(seen).size).toBe(FAILED_IN_RANGE);
    const { rows } = await pool.query<{ tracking_id: string }>(
      `SELECT tracking_id FROM notifications.notifications ORDER BY created_at, tracking_id`,
    );
    expect(seen).toEqual(rows.map((row) => row.tracking_id));
    expect(seen).toHaveLength(FAILED_IN_RANGE);
  });

  // Last in this block: it adds rows older than the others' ranges.
  it('When a bulk replay reaches back past the personal data retention, then a page reads about its own rows, not the erased failures of a month ago', async () => {
    // A long outage's failures five to seven weeks ago, erased since and kept until the purge.
    await pool.query(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, status, lease_expires_at, occurred_at, created_at, updated_at,
          personal_data_erased_at)
       SELECT gen_random_uuid(), 'checkout.completed', 'failed', at, at, at, at, now()
         FROM (SELECT now() - make_interval(days => 35) - make_interval(secs => n * 100) AS at
                 FROM generate_series(1, $1) AS n) AS history`,
      [FAILED_IN_RANGE],
    );
    await pool.query('VACUUM (ANALYZE) notifications.notifications');
    const recorder = statementRecorder();
    const range = { status: 'failed' as const, from: new Date(Date.now() - 80 * DAY_MS), to: new Date(), limit: PAGE };
    // The broker confirms nothing: no row is marked, and the first page is the only one read.
    const requeue = async () => ({ status: 'failed' as const, reason: 'not in this test' });

    await recorder.record('bulk replay', () =>
      replayRange(range, { db: recorder.db, requeue, pendingForMs: DAY_MS, personalDataRetentionMs: 30 * DAY_MS }),
    );

    const [candidates] = recorder.statements;
    if (!candidates) throw new Error('no statement recorded');
    const session = await pool.connect();
    try {
      for (const generic of [false, true]) {
        const pages = pagesScanned(await explainRun(session, candidates, { generic }), 'notifications');
        expect(pages, generic ? 'generic plan' : 'planned for its parameters').toBeLessThanOrEqual(PAGE / 4);
      }
    } finally {
      session.release();
    }
  }, 60_000);
});
