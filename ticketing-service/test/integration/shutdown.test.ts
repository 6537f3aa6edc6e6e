import { uniquePrefix } from '@notify/test-support/broker.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, deleteTestTopology, openPool, startService, TICKET_TYPES, testConfig } from '../support/harness.js';

describe('ticketing service: shutdown', () => {
  const prefix = uniquePrefix('ticketing');
  let pool: pg.Pool;

  beforeAll(() => {
    pool = openPool();
  });

  afterAll(async () => {
    await pool?.end();
    await deleteTestTopology(prefix);
  });

  /** Resolves once some session waits for a lock that `holder` holds. */
  async function someoneWaitsOn(holder: pg.PoolClient): Promise<void> {
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await waitFor(
      async () => {
        const waiting = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [rows[0]!.pid],
        );
        return waiting.rows[0]!.n > 0 ? true : undefined;
      },
      { what: 'the request to wait on the cart lock' },
    );
  }

  it('When the service stops during a request, then that request completes and new ones are not served', async () => {
    const service = await startService(testConfig(prefix));
    const api = apiClient(service);
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM ticketing.carts WHERE id = $1 FOR UPDATE', [cartId]);
      const inFlight = api.checkout(cartId);
      await someoneWaitsOn(holder);

      const stopped = service.stop();
      const late = await api.get('/healthz').then(
        (response) => response.status,
        () => 'refused',
      );
      await holder.query('COMMIT');

      expect([503, 'refused']).toContain(late);
      expect((await inFlight).status).toBe(201);
      await stopped;
    } finally {
      holder.release();
    }
  });
});
