import { encodeNotification } from '@notify/shared';
import { startMaintenance } from '@notify/shared/platform';
import { uniquePrefix } from '@notify/test-support/broker.js';
import { silentLogger } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { explainRun, pagesThroughIndex, statementRecorder } from '@notify/test-support/statement-plans.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimDueRows, outboxInsertValues } from '../../src/db/outbox-repository.js';
import { ticketingMaintenance } from '../../src/db/ticketing-maintenance.js';
import { migrateTicketingDatabase } from '../../src/service.js';
import { testConfig } from '../support/harness.js';

const EXCHANGE = 'vacuum.test';
/** Rows a day's retention keeps, published and vacuumed long ago. */
const HISTORY_ROWS = 100_000;
/**
 * Published since the last vacuum: past the row threshold (1,000), short of a tenth of the table
 * in dead rows and in rows changed since its last analyze (each one inserted, then updated).
 */
const PUBLISHED_SINCE = 4_000;

describe('the outbox between two vacuums (state: pages the relay reads)', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_outbox_vacuum`;
  let databaseUrl: string;
  let db: pg.Pool;

  beforeAll(async () => {
    databaseUrl = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(databaseUrl, silentLogger);
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    db.on('error', () => undefined);
    await db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, created_at, available_at, published_at)
       SELECT gen_random_uuid(), $1, 'checkout.completed', '\\x7b7d', '{}', t, t, t
         FROM (SELECT now() - interval '20 hours' + g * interval '1 second' AS t FROM generate_series(1, $2) g) AS times`,
      [EXCHANGE, HISTORY_ROWS],
    );
    await db.query('VACUUM (ANALYZE) ticketing.outbox');
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  /** Rows written as the API writes them, then claimed by the relay's own statement. */
  async function publish(count: number): Promise<void> {
    for (let written = 0; written < count; written += 200) {
      const rows = Array.from({ length: Math.min(200, count - written) }, () =>
        outboxInsertValues({ exchange: EXCHANGE, encoded: encodeNotification(buildMessage(), 'vacuum-test') }),
      );
      await db.query(
        `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, trace_id)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::jsonb[], $6::text[])`,
        [0, 1, 2, 3, 4, 5].map((column) => rows.map((row) => row[column])),
      );
      expect(await claimDueRows(db, EXCHANGE, 200)).toHaveLength(rows.length);
    }
  }

  /**
   * Pages that the relay's claim of the next batch reads from the index of due rows, run twice and
   * rolled back: the first run marks the entries of the rows published since the last vacuum dead,
   * the second shows what every claim after it reads until the next vacuum.
   */
  async function pagesOfTheNextClaim(): Promise<number> {
    await db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties)
       SELECT gen_random_uuid(), $1, 'checkout.completed', '\\x7b7d', '{}' FROM generate_series(1, 20)`,
      [EXCHANGE],
    );
    const recorder = statementRecorder();
    await claimDueRows(recorder.db, EXCHANGE, 200);
    const [claim] = recorder.statements;
    if (!claim) throw new Error('the claim sent no statement');
    const client = await db.connect();
    try {
      await explainRun(client, claim, { generic: false });
      return pagesThroughIndex(await explainRun(client, claim, { generic: false }), 'outbox_due');
    } finally {
      await db.query(`DELETE FROM ticketing.outbox WHERE published_at IS NULL AND exchange = $1`, [EXCHANGE]);
      client.release();
    }
  }

  /** pg_stat_user_tables lags the statements by up to a second: the maintenance reads it. */
  async function statisticsShowPublished(count: number): Promise<void> {
    await waitFor(
      async () => {
        const { rows } = await db.query(
          `SELECT n_ins_since_vacuum >= $1 AND n_mod_since_analyze >= 2 * $1 AS shown
             FROM pg_stat_user_tables WHERE schemaname = 'ticketing' AND relname = 'outbox'`,
          [count],
        );
        return rows[0]?.shown ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: `statistics of the outbox to show ${count} rows published` },
    );
  }

  it('When rows were published since the last vacuum, then the maintenance vacuums the outbox, however large, and the next claim reads a few pages', async () => {
    await publish(PUBLISHED_SINCE);
    await statisticsShowPublished(PUBLISHED_SINCE);
    const pagesBefore = await pagesOfTheNextClaim();
    const config = testConfig(uniquePrefix('outbox-vacuum'), { DATABASE_URL: databaseUrl });
    const maintenance = startMaintenance(ticketingMaintenance(config, silentLogger));

    const run = await maintenance.runOnce().finally(() => maintenance.stop());

    expect(run).toMatchObject({ ran: true, vacuumed: expect.arrayContaining(['ticketing.outbox']) });
    const pagesAfter = await pagesOfTheNextClaim();
    expect(pagesAfter).toBeLessThanOrEqual(5);
    expect(pagesBefore).toBeGreaterThan(4 * pagesAfter);
  });
});
