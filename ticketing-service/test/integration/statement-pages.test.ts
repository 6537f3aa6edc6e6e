import { encodeNotification } from '@notify/shared';
import { createPool } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import {
  explainRun,
  type PlanNode,
  pagesScanned,
  pagesThroughIndex,
  type RecordedStatement,
  statementRecorder,
} from '@notify/test-support/statement-plans.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimDueRows, outboxInsertValues, readOutboxBacklog } from '../../src/db/outbox-repository.js';
import { migrateTicketingDatabase } from '../../src/service.js';

const EXCHANGE = 'ticketing.events';
/** A day's published rows that retention keeps, vacuumed long ago. */
const HISTORY_ROWS = 100_000;
const PUBLISHED_SINCE_VACUUM = 100_000;
const BATCH = 200;
const PENDING = 5;
/** The metrics' default cap on the pending count. */
const CAP = 100_000;

/** Pages a statement read from the outbox and its indexes, run twice, then as a generic plan. */
type Runs = { first: number; second: number; generic: number };
type Pages = { scrape: Runs; claim: Runs };

/** Rows as the API writes them, each with a real message's bytes. */
async function writePending(pool: pg.Pool, count: number): Promise<void> {
  const [, exchange, routingKey, content, properties] = outboxInsertValues({
    exchange: EXCHANGE,
    encoded: encodeNotification(buildMessage(), 'statement-pages'),
  });
  await pool.query(
    `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties)
     SELECT gen_random_uuid(), $1, $2, $3, $4 FROM generate_series(1, $5)`,
    [exchange, routingKey, content, properties, count],
  );
}

/**
 * Rows written, then claimed and marked published by the relay's own statement, batch after batch:
 * as many stay pending as were before.
 */
async function publish(pool: pg.Pool, count: number): Promise<void> {
  for (let published = 0; published < count; published += BATCH) {
    await writePending(pool, BATCH);
    await claimDueRows(pool, EXCHANGE, BATCH);
  }
  // A dead entry is marked only once no transaction that began before its row's update still
  // runs, in any database of the server (other test files' included): until then the next walk
  // reads the row behind it like any other.
  const { rows } = await pool.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
  await waitFor(
    async () => {
      const { rows: passed } = await pool.query<{ passed: boolean }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS passed',
        [rows[0]?.xid],
      );
      return passed[0]?.passed ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 100, what: 'the transactions older than the publishing to end' },
  );
}

async function recordStatements(): Promise<{ scrape: RecordedStatement; claim: RecordedStatement }> {
  const recorder = statementRecorder();
  await recorder.record('scrape', () => readOutboxBacklog(recorder.db, EXCHANGE, CAP));
  await recorder.record('claim', () => claimDueRows(recorder.db, EXCHANGE, BATCH));
  const [scrape, claim] = recorder.statements;
  if (!scrape || !claim) throw new Error('a statement was not recorded');
  return { scrape, claim };
}

/**
 * The relay's next claim, then the backlog query of a scrape, each run and rolled back: twice
 * (the first run marks what it finds dead, the second shows what the runs after it read) and
 * then as a generic plan.
 */
async function pagesRead(pool: pg.Pool): Promise<Pages> {
  const { scrape, claim } = await recordStatements();
  const session = await pool.connect();
  try {
    const runs = async (statement: RecordedStatement, pages: (plan: PlanNode) => number): Promise<Runs> => {
      const read = async (generic: boolean) => pages(await explainRun(session, statement, { generic }));
      return { first: await read(false), second: await read(false), generic: await read(true) };
    };
    // The claim's primary-key scan holds the walk beneath it (its array of ids): the walk alone is counted.
    const claimRuns = await runs(claim, (plan) => pagesThroughIndex(plan, 'outbox_due'));
    return { claim: claimRuns, scrape: await runs(scrape, (plan) => pagesScanned(plan, 'outbox')) };
  } finally {
    session.release();
  }
}

describe('the outbox between two vacuums (pages read by a scrape of the backlog and by the relay)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_ticketing_pages`;
  let pool: pg.Pool;
  let afterVacuum: Pages;
  let beforeVacuum: Pages;
  let dueIndexPages: number;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    // Sessions as the service opens them, with room for the history's statements.
    pool = createPool(
      { url, applicationName: 'statement-pages', maxConnections: 2, statementTimeoutMs: 120_000 },
      silentLogger,
    );
    await pool.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, created_at, available_at, published_at)
       SELECT gen_random_uuid(), $1, 'checkout.completed', convert_to(repeat('x', 480), 'UTF8'), '{}', t, t, t
         FROM (SELECT now() - interval '20 hours' + g * interval '1 second' AS t FROM generate_series(1, $2) g) AS times`,
      [EXCHANGE, HISTORY_ROWS],
    );
    await writePending(pool, PENDING);
    await pool.query('VACUUM (ANALYZE) ticketing.outbox');
    afterVacuum = await pagesRead(pool);
    await publish(pool, PUBLISHED_SINCE_VACUUM);
    beforeVacuum = await pagesRead(pool);
    const { rows } = await pool.query<{ pages: number }>(
      `SELECT pg_relation_size('ticketing.outbox_due') / current_setting('block_size')::int AS pages`,
    );
    dueIndexPages = Number(rows[0]?.pages);
    console.log(JSON.stringify({ afterVacuum, beforeVacuum, dueIndexPages }));
  }, 300_000);
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When the outbox was just vacuumed, then a scrape and the claim read a few pages per pending row', () => {
    for (const [label, runs] of Object.entries(afterVacuum)) {
      for (const [run, pages] of Object.entries(runs))
        expect(pages, `${label}, ${run}`).toBeLessThanOrEqual(PENDING * 5 + 10);
    }
  });

  it(`When the relay published ${PUBLISHED_SINCE_VACUUM.toLocaleString('en')} rows since the last vacuum, then a scrape reads, from its first run on, the index pages the claim reads and from the table the pending rows alone`, () => {
    // The index of due rows keeps an entry of each row published since the vacuum: its pages are
    // read (one per 140 rows or so) until the next vacuum. The relay's claim walks them at every
    // batch and marks them dead, so the rows behind them are read no more. A walk of an index the
    // relay does not mark, or a bitmap scan, reads those rows: thousands of pages.
    expect(dueIndexPages).toBeGreaterThan(PUBLISHED_SINCE_VACUUM / 1_000);
    for (const [run, pages] of Object.entries(beforeVacuum.scrape))
      expect(pages, `scrape, ${run}`).toBeLessThanOrEqual(dueIndexPages + PENDING * 5 + 10);
    // The claim's first run may read rows behind entries that the claims before it could not mark
    // yet (a transaction of any database still running): the runs after it read the index alone.
    expect(beforeVacuum.claim.second, 'claim, second').toBeLessThanOrEqual(dueIndexPages + 5);
    expect(beforeVacuum.claim.generic, 'claim, generic').toBeLessThanOrEqual(dueIndexPages + 5);
  });

  it('When rows are pending, then the backlog counts them up to the cap and ages the oldest, whatever order they are due in', async () => {
    const exchange = 'backlog.values';
    expect(await readOutboxBacklog(pool, exchange, 10)).toEqual({ pending: 0, oldestPendingAgeSeconds: 0 });
    // The oldest was refused and waits for its retry: it is due after the younger ones.
    await pool.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, created_at, available_at, published_at)
       VALUES (gen_random_uuid(), $1, 'k', '\\x7b7d', '{}', now() - interval '600 seconds', now() + interval '30 seconds', NULL),
              (gen_random_uuid(), $1, 'k', '\\x7b7d', '{}', now() - interval '700 seconds', now() - interval '700 seconds', now()),
              (gen_random_uuid(), $1, 'k', '\\x7b7d', '{}', now() - interval '300 seconds', now() - interval '300 seconds', NULL),
              (gen_random_uuid(), $1, 'k', '\\x7b7d', '{}', now() - interval '200 seconds', now() - interval '200 seconds', NULL)`,
      [exchange],
    );

    const all = await readOutboxBacklog(pool, exchange, 10);
    const capped = await readOutboxBacklog(pool, exchange, 2);

    expect(all.pending).toBe(3);
    expect(all.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(600);
    expect(all.oldestPendingAgeSeconds).toBeLessThan(700);
    // At the cap the oldest may be past the rows counted: it is the oldest of all the same.
    expect(capped.pending).toBe(2);
    expect(capped.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(600);
    expect(capped.oldestPendingAgeSeconds).toBeLessThan(700);
  });
});
