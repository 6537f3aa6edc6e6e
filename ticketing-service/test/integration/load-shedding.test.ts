import { uniquePrefix } from '@notify/test-support/broker.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  apiClient,
  deleteTestTopology,
  lockCarts,
  newCustomer,
  ownDatabase,
  startService,
  testConfig,
} from '../support/harness.js';

/** The API pool's size (DATABASE_POOL_SIZE, set below its default): this many requests hold a connection, the rest wait for one. */
const POOL_SIZE = 3;
const MAX_WAITING = 5;

describe('ticketing API: load shedding', () => {
  const prefix = uniquePrefix('ticketing-shedding');
  const database = ownDatabase('shedding');
  let service: TicketingService;
  let url: string;

  beforeAll(async () => {
    url = await database.create();
    service = await startService(
      testConfig(prefix, {
        DATABASE_URL: url,
        DATABASE_POOL_SIZE: String(POOL_SIZE),
        // Each held request in a statement of its own, so that they take every connection.
        WRITE_BATCH_SIZE: '1',
        WRITE_BATCHES_IN_FLIGHT: String(POOL_SIZE),
        MAX_WAITING_REQUESTS: String(MAX_WAITING),
      }),
    );
  });
  afterAll(async () => {
    await service?.stop();
    await deleteTestTopology(prefix);
    await database.drop();
  });

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return Number(line?.split(' ')[1]);
  }
  const waitingForDatabase = () => metric('notify_api_requests_waiting_for_database');

  it('When requests already wait for every database connection, then the next ones get 503 at once, probes and metrics still answer, and the queued ones are served', async () => {
    const api = apiClient(service);
    const carts = await lockCarts(url);
    try {
      const held = Array.from({ length: POOL_SIZE }, () => api.post('/carts', { customer: newCustomer() }));
      await carts.waitForWaiters(POOL_SIZE);
      const queued = Array.from({ length: MAX_WAITING }, () => api.post('/carts', { customer: newCustomer() }));
      await waitFor(async () => ((await waitingForDatabase()) >= MAX_WAITING ? true : undefined), {
        timeoutMs: 3_000,
        what: `${MAX_WAITING} requests waiting for a connection`,
      });

      const refused = await api.post('/carts', { customer: newCustomer() });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('overloaded');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await api.get('/healthz')).status).toBe(200);
      expect(await metric('notify_api_requests_shed_total')).toBe(1);
      // The outbox gauges read the database on a pool of their own, not behind the queue.
      expect(await metric('notify_outbox_pending')).toBe(0);

      await carts.release();
      const served = await Promise.all([...held, ...queued]);
      expect(served.map((response) => response.status)).toEqual(served.map(() => 201));
      expect((await api.post('/carts', { customer: newCustomer() })).status).toBe(201);
    } finally {
      await carts.close();
    }
  });
});
