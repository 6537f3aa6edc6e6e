import { randomUUID } from 'node:crypto';
import { topologyNames } from '@notify/shared';
import type { Logger } from '@notify/shared/platform';
import { openTestBroker } from '@notify/test-support/broker.js';
import { silentLogger } from '@notify/test-support/logger.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import type { Channel, GetMessage } from 'amqplib';
import pg from 'pg';
import { inject } from 'vitest';
import '@notify/test-support/provided-context.js';
import { waitFor } from '@notify/test-support/wait.js';
import { type Config, loadConfig } from '../../src/config.js';
import {
  migrateTicketingDatabase,
  type StartOptions,
  startTicketingService,
  type TicketingService,
} from '../../src/service.js';

/** Seeded by migrations/001_catalog.sql. */
export const TICKET_TYPES = {
  jazzStanding: { id: 'a1000000-0000-4000-8000-000000000001', priceMinor: 4500 },
  jazzBalcony: { id: 'a1000000-0000-4000-8000-000000000002', priceMinor: 6500 },
  matineeStudent: { id: 'a1000000-0000-4000-8000-000000000004', priceMinor: 1500 },
} as const;

/** A migrated database of the test's own, for tests that lock tables or fill the outbox by hand. */
export function ownDatabase(label: string) {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const name = `${inject('runId')}_ticketing_${label}`;
  return {
    create: async () => {
      const url = await createDatabase(adminUrl, name);
      await migrateTicketingDatabase(url, silentLogger);
      return url;
    },
    drop: () => dropDatabase(adminUrl, name),
  };
}

/** The service's config for a test: port 0, the run's database and broker, the test's prefix. */
export function testConfig(prefix: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    AMQP_URL: inject('amqpUrl'),
    PORT: '0',
    TOPOLOGY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    OUTBOX_POLL_INTERVAL_MS: '200',
    ...overrides,
  });
}

export function startService(config: Config, log: Logger = silentLogger, options?: StartOptions) {
  return startTicketingService(config, log, options);
}

export type ApiResponse = { status: number; body: any; headers: Headers };

export function apiClient(service: Pick<TicketingService, 'url'>) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    /** A cart for a new, unique customer. */
    createCart: async () => {
      const response = await call('POST', '/carts', { customer: newCustomer() });
      if (response.status !== 201) throw new Error(`cart not created: ${JSON.stringify(response.body)}`);
      return response.body as { cartId: string; customer: { email: string; name: string } };
    },
    addTicket: (cartId: string, ticketTypeId: string, quantity: number, headers?: Record<string, string>) =>
      call('POST', `/carts/${cartId}/tickets`, { ticketTypeId, quantity }, headers),
    checkout: (cartId: string, headers?: Record<string, string>) =>
      call('POST', `/carts/${cartId}/checkout`, undefined, headers),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

export function newCustomer() {
  return { email: `buyer-${randomUUID()}@example.com`, name: 'Ada Lovelace' };
}

/** A queue of the test's own, bound to everything on the prefixed exchange. */
export async function bindTestQueue(channel: Channel, prefix: string, label: string): Promise<string> {
  const { exchange } = topologyNames(prefix);
  const queue = `${prefix}test.${label}`;
  // Same arguments as the service, so that whichever declares first, the other agrees.
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: false });
  await channel.bindQueue(queue, exchange, '#');
  return queue;
}

/** Every message now in the queue, taken off it. */
export async function drainQueue(channel: Channel, queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (message === false) return messages;
    messages.push(message);
  }
}

/** Collects messages from the queue until one has arrived for each tracking id. */
export async function collectMessages(
  channel: Channel,
  queue: string,
  trackingIds: string[],
  timeoutMs = 20_000,
): Promise<GetMessage[]> {
  const collected: GetMessage[] = [];
  await waitFor(
    async () => {
      collected.push(...(await drainQueue(channel, queue)));
      const seen = new Set(collected.map((message) => message.properties.messageId));
      return trackingIds.every((id) => seen.has(id)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `messages for ${trackingIds.length} tracking ids on ${queue}` },
  );
  return collected;
}

export function openPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  pool.on('error', () => undefined);
  return pool;
}

export type OutboxState = { trackingId: string; publishedAt: Date | null; attempts: number; lastError: string | null };

/** The outbox rows of these tracking ids only: other test files share the table. */
export async function outboxRows(pool: pg.Pool, trackingIds: string[]): Promise<OutboxState[]> {
  const result = await pool.query<OutboxState>(
    `SELECT tracking_id AS "trackingId", published_at AS "publishedAt", attempts, last_error AS "lastError"
       FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])`,
    [trackingIds],
  );
  return result.rows;
}

/** Outbox rows whose message is about this cart. */
export async function outboxRowsForCart(pool: pg.Pool, cartId: string): Promise<{ trackingId: string }[]> {
  const result = await pool.query<{ trackingId: string }>(
    `SELECT tracking_id AS "trackingId" FROM ticketing.outbox
      WHERE convert_from(content, 'UTF8')::jsonb -> 'content' ->> 'cartId' = $1`,
    [cartId],
  );
  return result.rows;
}

export function waitUntilPublished(pool: pg.Pool, trackingIds: string[], timeoutMs = 20_000): Promise<true> {
  return waitFor(
    async () => {
      const rows = await outboxRows(pool, trackingIds);
      const published = rows.filter((row) => row.publishedAt !== null).length;
      return published === trackingIds.length ? true : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `${trackingIds.length} outbox rows marked published` },
  );
}

/** Deletes what a test file declared: its queues, and the prefixed exchange the service asserted. */
export async function deleteTestTopology(prefix: string, queues: string[] = []): Promise<void> {
  const broker = await openTestBroker();
  try {
    for (const queue of queues) await broker.channel.deleteQueue(queue);
    await broker.channel.deleteExchange(topologyNames(prefix).exchange);
  } finally {
    await broker.close();
  }
}

/**
 * Locks ticketing.carts in a transaction of its own: every request that writes a cart then waits,
 * holding its pool connection, until `release`. `other` is a second session, outside that lock.
 */
export async function lockCarts(url: string) {
  const locker = new pg.Client({ connectionString: url });
  const other = new pg.Client({ connectionString: url });
  await Promise.all([locker.connect(), other.connect()]);
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE ticketing.carts IN ACCESS EXCLUSIVE MODE');
  return {
    other,
    /** Asked on `other`: inside the locking transaction, pg_stat_activity would stay as first read. */
    waitForWaiters: (count: number) =>
      waitFor(
        async () => {
          const { rows } = await other.query<{ waiting: number }>(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return (rows[0]?.waiting ?? 0) >= count ? true : undefined;
        },
        { timeoutMs: 3_000, what: `${count} sessions waiting on the carts' lock` },
      ),
    release: () => locker.query('COMMIT'),
    close: () => Promise.all([locker.end(), other.end()]),
  };
}
