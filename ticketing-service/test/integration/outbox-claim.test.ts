import { randomUUID } from 'node:crypto';
import { createPool, inTransaction } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { claimDueRows, releaseUnpublished } from '../../src/db/outbox-repository.js';
import { migrateTicketingDatabase } from '../../src/service.js';

const EXCHANGE = 'claim-test.events';

type RowState = { publishedAt: Date | null; attempts: number; lastError: string | null; dueInMs: number };

describe('the relay’s claim: rows marked published in the claiming transaction, handed back when not confirmed', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_ticketing_outbox_claim`;
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    pool = createPool({ url, applicationName: 'outbox-claim-test', maxConnections: 4 }, silentLogger);
  });
  afterAll(async () => {
    await pool?.end();
    await dropDatabase(adminUrl, databaseName);
  });
  beforeEach(async () => {
    await pool.query('DELETE FROM ticketing.outbox');
  });

  /** A pending row that became due `dueAgoMs` ago; its id. */
  async function pendingRow(dueAgoMs: number): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, available_at)
       VALUES ($1, $2, 'ticket.added_to_checkout', '\\x7b7d', '{}', now() - make_interval(secs => $3::float8 / 1000))
       RETURNING id`,
      [randomUUID(), EXCHANGE, dueAgoMs],
    );
    return (rows[0] as { id: string }).id;
  }

  async function state(id: string): Promise<RowState> {
    const { rows } = await pool.query<RowState>(
      `SELECT published_at AS "publishedAt", attempts, last_error AS "lastError",
              (extract(epoch FROM available_at - now()) * 1000)::float8 AS "dueInMs"
         FROM ticketing.outbox WHERE id = $1`,
      [id],
    );
    return rows[0] as RowState;
  }

  it('When rows are claimed, then they come in the order they became due, marked published only for the claiming transaction', async () => {
    const later = await pendingRow(1_000);
    const earliest = await pendingRow(60_000);
    const middle = await pendingRow(30_000);

    await inTransaction(pool, async (client) => {
      const claimed = await claimDueRows(client, EXCHANGE, 10);
      expect(claimed.map((row) => row.id)).toEqual([earliest, middle, later]);

      // Another relay meanwhile: it sees them pending, skips them as locked, and claims nothing.
      expect((await state(earliest)).publishedAt).toBeNull();
      expect(await inTransaction(pool, (other) => claimDueRows(other, EXCHANGE, 10))).toEqual([]);
    });

    expect((await state(earliest)).publishedAt).toBeInstanceOf(Date);
  });

  it('When the claiming transaction rolls back (the relay died mid-batch), then every row is pending again, no attempt counted', async () => {
    const id = await pendingRow(0);

    await expect(
      inTransaction(pool, async (client) => {
        expect(await claimDueRows(client, EXCHANGE, 10)).toHaveLength(1);
        throw new Error('relay died');
      }),
    ).rejects.toThrow('relay died');

    expect(await state(id)).toMatchObject({ publishedAt: null, attempts: 0 });
    expect(await inTransaction(pool, (client) => claimDueRows(client, EXCHANGE, 10))).toHaveLength(1);
  });

  it('When rows are handed back, then a refused one counts an attempt and backs off, a failed one is due at once, a never-sent one counts nothing', async () => {
    const refused = await pendingRow(0);
    const unconfirmed = await pendingRow(0);
    const neverSent = await pendingRow(0);
    const confirmed = await pendingRow(0);

    await inTransaction(pool, async (client) => {
      expect(await claimDueRows(client, EXCHANGE, 10)).toHaveLength(4);
      await releaseUnpublished(
        client,
        [
          { id: refused, error: 'returned: 312 NO_ROUTE', refused: true },
          { id: unconfirmed, error: 'no confirm within 10000 ms', refused: false },
          { id: neverSent },
        ],
        30_000,
      );
    });

    const refusedState = await state(refused);
    expect(refusedState).toMatchObject({ publishedAt: null, attempts: 1, lastError: 'returned: 312 NO_ROUTE' });
    expect(refusedState.dueInMs).toBeGreaterThan(500);
    expect(await state(unconfirmed)).toMatchObject({
      publishedAt: null,
      attempts: 1,
      lastError: 'no confirm within 10000 ms',
    });
    expect((await state(unconfirmed)).dueInMs).toBeLessThanOrEqual(0);
    expect(await state(neverSent)).toMatchObject({ publishedAt: null, attempts: 0, lastError: null });
    expect((await state(confirmed)).publishedAt).toBeInstanceOf(Date);
    // Due now: the unconfirmed and the never-sent rows; the refused one waits out its backoff.
    const again = await inTransaction(pool, (client) => claimDueRows(client, EXCHANGE, 10));
    expect(again.map((row) => row.id).sort()).toEqual([unconfirmed, neverSent].sort());
  });
});
