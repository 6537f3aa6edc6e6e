import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openChecksPool } from '../../system/database.js';
import { portAnswers } from '../../system/ports.js';
import { type PostgresNode, startPostgresNode, stopLeftoverPostgresNodes } from '../../system/postgres-node.js';

describe('startPostgresNode', () => {
  const nodes: PostgresNode[] = [];
  const folders: string[] = [];
  const start = async (options: Parameters<typeof startPostgresNode>[0] = {}) => {
    const node = await startPostgresNode(options);
    nodes.push(node);
    return node;
  };
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.dispose();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it('When the node is stopped and started again, then connections are refused meanwhile and its data is kept', async () => {
    const node = await start();
    const table = `kept_${Math.random().toString(36).slice(2, 8)}`;
    await query(node.url, `CREATE TABLE ${table} (note text); INSERT INTO ${table} VALUES ('before the stop')`);

    await node.stop();

    expect(node.running).toBe(false);
    await expect(query(node.url, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await node.start();
    expect(node.running).toBe(true);
    const { rows } = await query(node.url, `SELECT note FROM ${table}`);
    expect(rows).toEqual([{ note: 'before the stop' }]);
  });

  it('When it runs, then it is a PostgreSQL of its own on loopback, open to the postgres role without a password, autovacuum off', async () => {
    const node = await start();

    const { rows } = await query(
      node.url,
      `SELECT current_setting('listen_addresses') AS listen, current_setting('port') AS port,
              current_setting('autovacuum') AS autovacuum, current_setting('fsync') AS fsync, current_user AS role`,
    );

    expect(rows[0]).toEqual({
      listen: '127.0.0.1',
      port: String(node.port),
      autovacuum: 'off',
      fsync: 'on',
      role: 'postgres',
    });
    expect(node.port).not.toBe(5432);
  });

  it('When the server stops under a checks pool, then its queries fail meanwhile and work again after the restart, without crashing the process', async () => {
    const node = await start();
    const pool = openChecksPool(node.url);
    try {
      // Two clients: one stays idle (its server's shutdown makes it emit 'error' on the pool), one busy.
      await Promise.all([pool.query('SELECT pg_sleep(0.1)'), pool.query('SELECT pg_sleep(0.1)')]);
      expect(pool.idleCount).toBe(2);
      const busy = pool.query('SELECT pg_sleep(30)');
      busy.catch(() => undefined);

      await node.stop();

      await expect(busy).rejects.toThrow(/terminat|shut ?down|Connection terminated/i);
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await node.start();
      await expect(pool.query('SELECT 2 AS two')).resolves.toMatchObject({ rows: [{ two: 2 }] });
    } finally {
      await pool.end();
    }
  });

  it('When disposed, then the server is gone and its folder and marker deleted', async () => {
    const markerDir = mkdtempSync(join(tmpdir(), 'notify-pg-markers-'));
    folders.push(markerDir);
    const node = await start({ markerDir });
    expect(readdirSync(markerDir)).toHaveLength(1);

    await node.dispose();

    expect(await portAnswers(node.port)).toBe(false);
    expect(existsSync(node.dir)).toBe(false);
    expect(readdirSync(markerDir)).toEqual([]);
  });

  it('When the process that started a node is gone, then stopLeftoverPostgresNodes stops it and deletes its folder, and leaves live owners alone', async () => {
    const markerDir = mkdtempSync(join(tmpdir(), 'notify-pg-markers-'));
    folders.push(markerDir);
    const orphan = await start({ markerDir });
    const owned = await start({ markerDir });
    const [orphanMarker] = readdirSync(markerDir).filter((file) => readMarker(markerDir, file).port === orphan.port);
    writeFileSync(
      join(markerDir, orphanMarker!),
      JSON.stringify({ ...readMarker(markerDir, orphanMarker!), ownerPid: deadPid() }),
    );

    const stopped = await stopLeftoverPostgresNodes(markerDir);

    expect(stopped).toEqual([orphan.port]);
    expect(await portAnswers(orphan.port)).toBe(false);
    expect(existsSync(orphan.dir)).toBe(false);
    await expect(query(owned.url, 'SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function readMarker(markerDir: string, file: string): { port: number; ownerPid: number } {
  return JSON.parse(readFileSync(join(markerDir, file), 'utf8'));
}

/** The pid of a process that already exited and was reaped (a run killed before its own cleanup). */
function deadPid(): number {
  const { pid } = spawnSync('true');
  if (pid === undefined) throw new Error('could not run `true`');
  return pid;
}
