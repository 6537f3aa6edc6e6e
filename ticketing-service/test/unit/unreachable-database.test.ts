import net from 'node:net';
import { createInFlight, createMetricsRegistry, listen, type RunningServer } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createCartCache } from '../../src/domain/cart-cache.js';
import { gatheredCartWrites } from '../../src/domain/cart-writes.js';

/**
 * A socket whose connect fails as the kernel fails it when the database's host or network cannot be
 * reached (no route, the host down during a failover): pg hands the socket's error on as it is.
 */
function unreachableSocket(code: string, errno: number) {
  return () => {
    const socket = new net.Socket();
    socket.connect = ((port: number, host: string) => {
      const error = Object.assign(new Error(`connect ${code} ${host}:${port}`), {
        errno,
        code,
        syscall: 'connect',
        address: host,
        port,
      });
      process.nextTick(() => socket.destroy(error));
      return socket;
    }) as typeof socket.connect;
    return socket;
  };
}

function unreachablePool(code: string, errno: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: 'postgres://app@db.internal:5432/ticketing',
    stream: unreachableSocket(code, errno),
  });
  pool.on('error', () => undefined);
  return pool;
}

describe('ticketing API while the database host cannot be reached', () => {
  let server: RunningServer | undefined;
  let pools: pg.Pool[] = [];

  afterEach(async () => {
    await server?.close();
    await Promise.all(pools.map((pool) => pool.end()));
    server = undefined;
    pools = [];
  });

  async function start(code: string, errno: number) {
    const pool = unreachablePool(code, errno);
    const probePool = unreachablePool(code, errno);
    pools = [pool, probePool];
    const app = createApp({
      log: silentLogger,
      pool,
      writes: gatheredCartWrites(pool, { maxPerStatement: 16, statementsInFlight: 2 }),
      outbox: { exchange: 'unreachable.ticketing.events', appId: 'ticketing-service' },
      carts: createCartCache(10),
      onCommitted: () => undefined,
      brokerReady: () => true,
      isDraining: () => false,
      metrics: createMetricsRegistry(),
      idempotencyKeyTtlHours: 24,
      probePool,
      shedding: { maxWaiting: 500, onShed: () => undefined, waitingForDatabase: () => pool.waitingCount },
      inFlight: createInFlight(),
    });
    server = await listen(app, { port: 0, host: '127.0.0.1', log: silentLogger });
    return server.url;
  }

  it.each([
    ['no route to the host', 'EHOSTUNREACH', -113],
    ['no route to its network', 'ENETUNREACH', -101],
  ])('When there is %s, then a command answers 503 with Retry-After, not 500', async (_, code, errno) => {
    const url = await start(code, errno);
    const response = await fetch(`${url}/carts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'ada@example.com', name: 'Ada Lovelace' } }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('When there is no route to the host, then a read of a cart answers 503, not 500', async () => {
    const url = await start('EHOSTUNREACH', -113);
    const response = await fetch(`${url}/carts/01a243de-87c6-7076-b31a-b8a0e0d692c1`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
  });
});
