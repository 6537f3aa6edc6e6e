import { silentLogger } from '@notify/test-support/logger.js';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import '@notify/test-support/provided-context.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { migrateTicketingDatabase } from '../../../ticketing-service/src/service.js';
import { GATHERED_EXCHANGE, measureStatementCosts } from '../../lib/statement-costs.js';

const CARTS = 30;

describe('bench:statements', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  let databaseName: string | undefined;

  async function migratedDatabase(label: string): Promise<string> {
    databaseName = `${inject('runId')}_statements_${label}`;
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    return url;
  }

  afterEach(async () => {
    if (databaseName) await dropDatabase(adminUrl, databaseName);
    databaseName = undefined;
  });

  it('When the checkout flow is measured statement by statement, then each runs once per cart and the flow is complete in the database', async () => {
    const url = await migratedDatabase('flow');

    const costs = await measureStatementCosts(url, { carts: CARTS, connections: 2 });

    expect(costs.map(({ statement, count }) => [statement.split(' ')[0], count])).toEqual([
      ['SELECT', CARTS],
      ['insert', CARTS],
      ['read', CARTS],
      ['add', CARTS],
      ['read', CARTS],
      ['place', CARTS],
      ['relay:', 2 * CARTS],
      ['an', CARTS],
      ['outbox', CARTS],
      ['outbox', CARTS],
      ['insert', CARTS],
      ['add', CARTS],
      ['place', CARTS],
    ]);
    expect(costs.filter((cost) => cost.write === 'alone').map((cost) => cost.statement.split(' ')[0])).toEqual([
      'insert',
      'add',
      'place',
    ]);
    expect(costs.filter((cost) => cost.write === 'gathered').map((cost) => cost.statement.split(' ')[0])).toEqual([
      'insert',
      'add',
      'place',
    ]);
    for (const cost of costs) {
      expect(cost.backendMicros).toBeGreaterThanOrEqual(cost.kernelMicros);
      expect(cost.kernelMicros).toBeGreaterThanOrEqual(0);
      expect(cost.wallMicros).toBeGreaterThan(0);
    }
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM ticketing.carts WHERE status = 'checked_out' AND version = 2) AS "checkedOut",
                (SELECT count(*)::int FROM ticketing.carts) AS carts,
                (SELECT count(*)::int FROM ticketing.cart_items WHERE quantity = 1) AS lines,
                (SELECT count(*)::int FROM ticketing.orders) AS orders,
                (SELECT count(*)::int FROM ticketing.outbox WHERE published_at IS NOT NULL) AS published,
                (SELECT count(*)::int FROM ticketing.outbox WHERE exchange <> $1) AS outbox,
                (SELECT count(DISTINCT tracking_id)::int FROM ticketing.outbox WHERE exchange = $1) AS gathered`,
        [GATHERED_EXCHANGE],
      );
      // The flow's carts, then as many again through the gathered writes, each checked out once.
      // The gathered outbox rows: a row per cart in each of three phases, then two per gathered cart.
      expect(rows[0]).toEqual({
        checkedOut: 2 * CARTS,
        carts: 2 * CARTS,
        lines: 2 * CARTS,
        orders: 2 * CARTS,
        published: 2 * CARTS,
        outbox: 2 * CARTS,
        gathered: 5 * CARTS,
      });
    } finally {
      await db.end();
    }
  });

  it('When a statement fails (the orders table is gone), then the measurement stops with its error', async () => {
    const url = await migratedDatabase('broken');
    await runSql(url, 'DROP TABLE ticketing.orders');

    await expect(measureStatementCosts(url, { carts: 5, connections: 1 })).rejects.toThrow(
      /relation "ticketing.orders" does not exist/,
    );
  });

  it('When a statement changes nothing (the ticket type is gone from the catalog), then the measurement stops naming it', async () => {
    const url = await migratedDatabase('unchanged');
    await runSql(url, `DELETE FROM ticketing.ticket_types WHERE id = 'a1000000-0000-4000-8000-000000000001'`);

    await expect(measureStatementCosts(url, { carts: 5, connections: 1 })).rejects.toThrow(/add: nothing for cart/);
  });
});

async function runSql(url: string, sql: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(sql);
  } finally {
    await db.end();
  }
}
