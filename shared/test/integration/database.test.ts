import { createPool, inTransaction } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { startTcpProxy, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

describe('inTransaction', () => {
  let proxy: TcpProxy;
  let url: string;

  beforeAll(async () => {
    const direct = new URL(inject('databaseUrl'));
    proxy = await startTcpProxy({ targetHost: direct.hostname, targetPort: Number(direct.port || 5432) });
    direct.host = `${proxy.host}:${proxy.port}`;
    url = direct.toString();
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
