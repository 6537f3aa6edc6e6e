import { fileURLToPath } from 'node:url';
import { migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

const dir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

describe('migrate', () => {
  const schema = `migrations_${Date.now().toString(36)}`;
  const databaseUrl = inject('databaseUrl');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('When two instances migrate at the same moment, then each migration runs once and both succeed', async () => {
    const settings = { databaseUrl, dir, schema };

    await Promise.all([migrate(settings, silentLogger), migrate(settings, silentLogger)]);

    const applied = await pool.query(`SELECT name FROM ${schema}.schema_migrations ORDER BY run_on, id`);
    expect(applied.rows.map((row) => row.name)).toEqual(['001_widgets', '002_widget_colour']);
    const columns = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.rows.map((row) => row.column_name)).toEqual(['id', 'label', 'colour']);
  });

  it('When the database takes the connection but never answers, then migrate fails once its connect timeout passed', async () => {
    const { proxy, url: silent } = await proxyFor(databaseUrl);
    proxy.blackhole();

    try {
      await expect(migrate({ databaseUrl: silent, dir, schema, connectTimeoutMs: 300 }, silentLogger)).rejects.toThrow(
        /timeout/i,
      );
    } finally {
      await proxy.close();
    }
  });
});
