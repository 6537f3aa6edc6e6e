import { randomBytes } from 'node:crypto';
import { createPool, endPool, inTransaction, withClient } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { proxyFor, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

describe('inTransaction', () => {
  let proxy: TcpProxy;
  let url: string;

  beforeAll(async () => {
    ({ proxy, url } = await proxyFor(inject('databaseUrl')));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('When the server goes away between two statements, then the transaction rejects and the pool works once it is back', async () => {
    const pool = createPool({ url, applicationName: 'database-test', maxConnections: 2 }, silentLogger);
    const transaction = inTransaction(pool, async (client) => {
      await client.query('SELECT 1');
      proxy.cut();
      // The client now gets 'error' with no query running: unheard, it would crash the process.
      await new Promise((resolve) => client.once('end', resolve));
      await client.query('SELECT 2');
    });

    await expect(transaction).rejects.toThrow();
    proxy.restore();
    await expect(pool.query('SELECT 3 AS three')).resolves.toMatchObject({ rows: [{ three: 3 }] });
    await pool.end();
  });
});

describe('a statement that outlives the read timeout', () => {
  // statement_timeout is lifted on the session, so that the server keeps running the statement
  // after the client gave up on it, as it does for a server that stopped answering.
  const overrun = 'SELECT pg_sleep(5)';

  it('When it fails a command, then its connection is not handed out again and the next statement answers at once', async () => {
    const pool = createPool(
      { url: inject('databaseUrl'), applicationName: 'database-test', maxConnections: 1, statementTimeoutMs: 300 },
      silentLogger,
    );
    const command = withClient(pool, async (client) => {
      await client.query('SET statement_timeout = 0');
      await client.query(overrun);
    });

    await expect(command).rejects.toThrow('Query read timeout');
    // On the same connection this would wait behind the sleep and time out in turn.
    await expect(pool.query('SELECT 3 AS three')).resolves.toMatchObject({ rows: [{ three: 3 }] });
    await pool.end();
  });

  it('When it fails a transaction, then the transaction rejects with it, sends no ROLLBACK to queue behind it, and the pool works', async () => {
    const pool = createPool(
      { url: inject('databaseUrl'), applicationName: 'database-test', maxConnections: 1, statementTimeoutMs: 300 },
      silentLogger,
    );
    const sentAfterTheOverrun: string[] = [];
    const transaction = inTransaction(pool, async (client) => {
      await client.query('SET LOCAL statement_timeout = 0');
      await client.query(overrun).finally(() => {
        const query = client.query.bind(client);
        client.query = ((text: string, ...rest: unknown[]) => {
          sentAfterTheOverrun.push(text);
          return (query as (...args: unknown[]) => unknown)(text, ...rest);
        }) as typeof client.query;
      });
    });

    await expect(transaction).rejects.toThrow('Query read timeout');
    expect(sentAfterTheOverrun).toEqual([]);
    await expect(pool.query('SELECT 3 AS three')).resolves.toMatchObject({ rows: [{ three: 3 }] });
    await pool.end();
  });
});

describe('a transaction whose client went silent', () => {
  const table = `idle_tx_${randomBytes(4).toString('hex')}`;
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
    admin.on('error', () => undefined);
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await admin.query(`INSERT INTO ${table} VALUES (1)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${table}`);
    await admin?.end();
  });

  it('When its client sends nothing past the idle limit, then the server ends the session and another takes the rows it locked', async () => {
    const pool = createPool(
      {
        url: inject('databaseUrl'),
        applicationName: 'database-test',
        maxConnections: 1,
        idleInTransactionTimeoutMs: 300,
      },
      silentLogger,
    );
    const silent = await pool.connect();
    // The server's notice, then the socket's end: both come as 'error'.
    const ended = new Promise<Error>((resolve) => silent.on('error', resolve));
    await silent.query('BEGIN');
    await silent.query(`SELECT id FROM ${table} FOR UPDATE`);
    const takeFree = async () => (await admin.query(`SELECT id FROM ${table} FOR UPDATE SKIP LOCKED`)).rows;
    expect(await takeFree()).toEqual([]);

    // As a frozen or cut-off process does: no further statement, no COMMIT, the socket left open.
    expect((await ended).message).toMatch(/idle-in-transaction timeout/);
    expect(await takeFree()).toEqual([{ id: 1 }]);
    silent.release(new Error('ended by the server'));
    await pool.end();
  });
});

describe('endPool', () => {
  it('When a connection is still being opened to a server gone silent, then the stop drops it and the pool ends within its bound', async () => {
    const { proxy, url } = await proxyFor(inject('databaseUrl'));
    const pool = createPool({ url, applicationName: 'end-pool-connecting' }, silentLogger);
    try {
      proxy.blackhole();
      // A probe, say: no idle connection to take, so the pool opens one, which the server never answers.
      const statement = pool.query('SELECT 1').catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 100));

      const startedAt = Date.now();
      await expect(endPool(pool)).resolves.toBeUndefined();
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      expect(await statement).toBeInstanceOf(Error);
    } finally {
      await proxy.close();
    }
  });
});
