import { randomUUID } from 'node:crypto';
import { topologyNames } from '@notify/shared';
import { createPool, type OutgoingMessage, type PublishOutcome } from '@notify/shared/platform';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { silentLogger } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OUTBOX_CHANNEL } from '../../src/db/outbox-repository.js';
import { OutboxRelay } from '../../src/messaging/outbox-relay.js';
import {
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  lockCarts,
  ownDatabase,
  startService,
  testConfig,
} from '../support/harness.js';

async function insertPending(db: pg.Pool | pg.Client, exchange: string, count: number): Promise<string[]> {
  const trackingIds = Array.from({ length: count }, () => randomUUID());
  for (const trackingId of trackingIds) {
    await db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties)
       VALUES ($1::uuid, $2, 'ticket.added_to_checkout', '\\x7b7d', jsonb_build_object('messageId', $1::text))`,
      [trackingId, exchange],
    );
  }
  await db.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, exchange]);
  return trackingIds;
}

describe('ticketing outbox relay: batches in flight', () => {
  const BATCH_SIZE = 5;
  const EXCHANGE = 'pipelining-test.events';
  const database = ownDatabase('relay_pipelining');
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await database.create();
    pool = createPool({ url, applicationName: 'relay-pipelining-test', maxConnections: 6 }, silentLogger);
  });
  afterAll(async () => {
    await pool?.end();
    await database.drop();
  });
  beforeEach(async () => {
    await pool.query('DELETE FROM ticketing.outbox');
  });

  /** Confirms nothing until `confirmAll`: every batch handed to it stays in flight. */
  function heldPublisher() {
    const batches: OutgoingMessage[][] = [];
    const releases: (() => void)[] = [];
    let held = true;
    return {
      batches,
      confirmAll: () => {
        held = false;
        for (const release of releases.splice(0)) release();
      },
      publisher: {
        canPublish: () => true,
        publishBatch: async (messages: OutgoingMessage[]): Promise<PublishOutcome[]> => {
          batches.push(messages);
          if (held) await new Promise<void>((resolve) => releases.push(resolve));
          return messages.map(() => ({ status: 'published' }));
        },
      },
    };
  }

  function relayTo(broker: ReturnType<typeof heldPublisher>, batchesInFlight: number): OutboxRelay {
    return new OutboxRelay(
      { pool, publisher: broker.publisher, log: silentLogger },
      {
        exchange: EXCHANGE,
        batchSize: BATCH_SIZE,
        pollIntervalMs: 50,
        lingerMs: 0,
        retryMaxDelayMs: 1_000,
        batchesInFlight,
      },
    );
  }

  it.each([1, 2, 3])(
    'When full batches wait for their confirms, then the relay has up to %i of them in flight, each with rows of its own',
    async (batchesInFlight) => {
      const trackingIds = await insertPending(pool, EXCHANGE, BATCH_SIZE * 4);
      const broker = heldPublisher();
      const relay = relayTo(broker, batchesInFlight);
      relay.start();
      try {
        await waitFor(() => (broker.batches.length === batchesInFlight ? true : undefined), {
          timeoutMs: 5_000,
          intervalMs: 10,
          what: `${batchesInFlight} batches handed to the broker`,
        });
        // Long enough for a relay that ignored the bound to claim one more batch.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(broker.batches).toHaveLength(batchesInFlight);
        const inFlight = broker.batches.flat().map((message) => message.properties?.messageId);
        expect(new Set(inFlight).size).toBe(BATCH_SIZE * batchesInFlight);

        broker.confirmAll();
        await waitFor(
          async () => {
            const { rows } = await pool.query('SELECT 1 FROM ticketing.outbox WHERE published_at IS NULL');
            return rows.length === 0 ? true : undefined;
          },
          { timeoutMs: 5_000, intervalMs: 20, what: 'every row published' },
        );
      } finally {
        broker.confirmAll();
        await relay.stop();
      }
      const published = broker.batches.flat().map((message) => message.properties?.messageId);
      expect(published.toSorted()).toEqual(trackingIds.toSorted());
    },
  );

  it('When a batch short of full awaits its confirms, then rows committed meanwhile wait for it and go out together', async () => {
    const first = await insertPending(pool, EXCHANGE, 2);
    const broker = heldPublisher();
    const relay = relayTo(broker, 2);
    relay.start();
    try {
      await waitFor(() => (broker.batches.length === 1 ? true : undefined), {
        timeoutMs: 5_000,
        what: 'the first batch',
      });
      const meanwhile = [...(await insertPending(pool, EXCHANGE, 1)), ...(await insertPending(pool, EXCHANGE, 1))];
      relay.wake();
      // Several polls and wakes: a relay that claimed beside an open short batch would have by now.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(broker.batches).toHaveLength(1);

      broker.confirmAll();
      await waitFor(() => (broker.batches.length === 2 ? true : undefined), {
        timeoutMs: 5_000,
        what: 'a second batch',
      });
      const ids = (batch: OutgoingMessage[] | undefined) =>
        (batch ?? []).map((message) => message.properties?.messageId);
      expect(ids(broker.batches[0]).toSorted()).toEqual(first.toSorted());
      expect(ids(broker.batches[1]).toSorted()).toEqual(meanwhile.toSorted());
    } finally {
      broker.confirmAll();
      await relay.stop();
    }
  });

  it('When a failed batch is followed by one that goes through, then the relay drains the rest at once, without waiting for its poll', async () => {
    const trackingIds = await insertPending(pool, EXCHANGE, BATCH_SIZE * 3);
    const published: OutgoingMessage[] = [];
    let calls = 0;
    const relay = new OutboxRelay(
      {
        pool,
        log: silentLogger,
        publisher: {
          canPublish: () => true,
          publishBatch: async (messages) => {
            calls += 1;
            if (calls === 1) return messages.map(() => ({ status: 'failed', reason: 'confirm timed out' }));
            published.push(...messages);
            return messages.map(() => ({ status: 'published' }));
          },
        },
      },
      {
        exchange: EXCHANGE,
        batchSize: BATCH_SIZE,
        pollIntervalMs: 600_000,
        lingerMs: 0,
        retryMaxDelayMs: 1_000,
        batchesInFlight: 1,
      },
    );
    relay.start();
    try {
      await waitFor(() => (published.length === trackingIds.length ? true : undefined), {
        timeoutMs: 5_000,
        what: 'every row published, those of the failed batch included',
      });
    } finally {
      await relay.stop();
    }
    expect(published.map((message) => message.properties?.messageId).toSorted()).toEqual(trackingIds.toSorted());
  });
});

describe('ticketing outbox relay: connections of its own', () => {
  const prefix = uniquePrefix('ticketing-relay-pool');
  const database = ownDatabase('relay_pool');
  let url: string;
  let broker: TestBroker;
  let queue: string;

  beforeAll(async () => {
    url = await database.create();
    broker = await openTestBroker();
    queue = await bindTestQueue(broker.channel, prefix, 'relay-pool');
  });
  afterAll(async () => {
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
    await database.drop();
  });

  it('When every connection of the API is taken by requests that wait, then the relay still publishes the outbox', async () => {
    // Each new cart in a statement of its own, as many at once as the API has connections (10 by default).
    const service = await startService(
      testConfig(prefix, { DATABASE_URL: url, WRITE_BATCH_SIZE: '1', WRITE_BATCHES_IN_FLIGHT: '10' }),
    );
    const api = apiClient(service);
    const carts = await lockCarts(url);
    try {
      // More requests than the API has connections: ten wait on the lock, the rest for their statement.
      const requests = Array.from({ length: 14 }, () => api.createCart().then(() => 'created'));
      await carts.waitForWaiters(10);

      const [trackingId] = await insertPending(carts.other, topologyNames(prefix).exchange, 1);
      // The API's requests give up on a connection after 5 s: the message must come well before.
      const delivered = await collectMessages(broker.channel, queue, [trackingId!], 3_000);
      expect(delivered.map((message) => message.properties.messageId)).toContain(trackingId);

      await carts.release();
      expect(await Promise.all(requests)).toEqual(requests.map(() => 'created'));
    } finally {
      await carts.close();
      await service.stop();
    }
  });
});
