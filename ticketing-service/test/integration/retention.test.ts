import { randomUUID } from 'node:crypto';
import { lockKey } from '@notify/shared/platform';
import { uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  deleteTestTopology,
  newCustomer,
  startService,
  testConfig,
} from '../support/harness.js';

describe('retention and maintenance of the ticketing tables (state, responses, logs)', () => {
  const prefix = uniquePrefix('ticketing-retention');
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  // A database of its own: the job purges every old row it finds, and readiness is tested under a
  // lock that would stall other test files.
  const databaseName = `${inject('runId')}_ticketing_retention`;
  const logs = captureLogs();
  let service: TicketingService;
  let api: ApiClient;
  let db: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    db = new pg.Pool({ connectionString: url, max: 3 });
    db.on('error', () => undefined);
    const config = testConfig(prefix, {
      DATABASE_URL: url,
      OUTBOX_RETENTION_HOURS: '24',
      IDEMPOTENCY_KEY_TTL_HOURS: '24',
      MAINTENANCE_INTERVAL_MS: '86400000',
    });
    service = await startService(config, logs.log);
    api = apiClient(service);
  });
  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await dropDatabase(adminUrl, databaseName);
    await deleteTestTopology(prefix);
  });

  /** An outbox row created `ageHours` ago, published `publishedHoursAgo` ago (null: still pending). */
  async function outboxRow(ageHours: number, publishedHoursAgo: number | null): Promise<string> {
    const trackingId = randomUUID();
    await db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, created_at, available_at, published_at)
       VALUES ($1, 'retention.test', 'checkout.completed', '\\x7b7d', '{}', now() - make_interval(hours => $2),
               now() - make_interval(hours => $2),
               CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(hours => $3::int) END)`,
      [trackingId, ageHours, publishedHoursAgo],
    );
    return trackingId;
  }

  async function outboxIds(trackingIds: string[]): Promise<string[]> {
    const { rows } = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      trackingIds,
    ]);
    return rows.map((row) => row.tracking_id).sort();
  }

  async function key(ageHours: number): Promise<string> {
    const name = `retention-${randomUUID()}`;
    await db.query(
      `INSERT INTO ticketing.idempotency_keys (key, fingerprint, response_status, response_body, created_at)
       VALUES ($1, 'f', 201, '{}', now() - make_interval(hours => $2))`,
      [name, ageHours],
    );
    return name;
  }

  it('When the job runs, then outbox rows published before the retention go, and recent or pending ones stay', async () => {
    const oldPublished = await outboxRow(30, 29);
    const recentPublished = await outboxRow(30, 1);
    const oldPending = await outboxRow(30, null);

    const run = await service.maintenance.runOnce();

    expect(run).toMatchObject({ ran: true });
    expect(await outboxIds([oldPublished, recentPublished, oldPending])).toEqual([recentPublished, oldPending].sort());
  });

  it('When the job runs, then idempotency keys past their TTL go and younger ones stay', async () => {
    const [expired, live] = [await key(25), await key(1)];

    await service.maintenance.runOnce();

    const { rows } = await db.query('SELECT key FROM ticketing.idempotency_keys WHERE key = ANY($1)', [
      [expired, live],
    ]);
    expect(rows.map((row) => row.key)).toEqual([live]);
  });

  it('When a request comes with a key past its TTL, then it is handled as new instead of replayed', async () => {
    const headers = { 'Idempotency-Key': `ttl-${randomUUID()}` };
    const customer = newCustomer();
    const first = await api.post('/carts', { customer }, headers);
    await db.query(`UPDATE ticketing.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [
      headers['Idempotency-Key'],
    ]);

    const again = await api.post('/carts', { customer: newCustomer() }, headers);
    const replayed = await api.post('/carts', { customer: newCustomer() }, headers);

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.cartId).not.toBe(first.body.cartId);
    // Taken over: the key now answers for the new request, and a different body is refused again.
    expect(replayed.status).toBe(422);
  });

  it('When another instance holds the maintenance lock, then this one purges nothing until it is released', async () => {
    const old = await outboxRow(30, 29);
    const holder = await db.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [lockKey('ticketing-service')]);

      const skipped = await service.maintenance.runOnce();

      expect(skipped).toEqual({ ran: false, reason: 'another instance holds the lock' });
      expect(await outboxIds([old])).toEqual([old]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
    expect(await service.maintenance.runOnce()).toMatchObject({ ran: true });
    expect(await outboxIds([old])).toEqual([]);
  });

  it('When the service starts on a server whose autovacuum is off, then it logs one warning saying it maintains its tables', async () => {
    const { rows } = await db.query('SHOW autovacuum');
    const warnings = logs.find(
      'PostgreSQL autovacuum is off: this service vacuums and analyzes its own tables; other tables on this server get no vacuum at all',
    );

    expect(warnings).toHaveLength(rows[0].autovacuum === 'off' ? 1 : 0);
    if (warnings[0])
      expect(warnings[0]).toMatchObject({ level: 40, maintainedTables: expect.arrayContaining(['ticketing.outbox']) });
  });

  it('When the readiness probe cannot finish in time, then /readyz answers 503 and the probe is cancelled on the server', async () => {
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ticketing.outbox IN ACCESS EXCLUSIVE MODE');
      const startedAt = Date.now();

      const blocked = await api.get('/readyz');

      expect(Date.now() - startedAt).toBeLessThan(4_000);
      expect(blocked).toMatchObject({ status: 503, body: { status: 'not_ready', database: 'down' } });
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE '% probe' AND state = 'active'`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await api.get('/readyz')).status).toBe(200);
  });
});
