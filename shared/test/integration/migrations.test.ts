import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '@notify/shared/platform';
import { captureLogs, silentLogger } from '@notify/test-support/logger.js';
import { testPool } from '@notify/test-support/pool.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';

const dir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

describe('migrate', () => {
  const schema = `migrations_${Date.now().toString(36)}`;
  const databaseUrl = inject('databaseUrl');
  const pool = testPool({ connectionString: databaseUrl, max: 2 });

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

  it('When the database refuses the connection, then migrate fails naming the database it tried, its password hidden', async () => {
    const refusing = new URL(databaseUrl);
    refusing.password = 'not-for-the-logs';
    refusing.pathname = `/${schema}_missing`;

    const failure = await migrate({ databaseUrl: refusing.href, dir, schema }, silentLogger).catch(
      (error: Error) => error,
    );

    expect(failure).toBeInstanceOf(Error);
    const { message } = failure as Error;
    expect(message).toContain(
      `could not connect to PostgreSQL at postgres://${refusing.username}:***@${refusing.host}/`,
    );
    expect(message).toContain(`database "${schema}_missing" does not exist`);
    expect(message).not.toContain('not-for-the-logs');
  });

  describe('when a table it alters is held by a long transaction', () => {
    const lockedSchema = `${schema}_locked`;
    let firstOnly: string;
    let blocker: pg.Client;

    /** The schema at 001, the folder with 002 added, and a transaction holding a lock on the table 002 alters. */
    async function holdWidgets(): Promise<{ settings: Parameters<typeof migrate>[0] }> {
      firstOnly = await mkdtemp(join(tmpdir(), 'migrations-'));
      await copyFile(join(dir, '001_widgets.sql'), join(firstOnly, '001_widgets.sql'));
      const settings = { databaseUrl, dir: firstOnly, schema: lockedSchema };
      await migrate(settings, silentLogger);
      await copyFile(join(dir, '002_widget_colour.sql'), join(firstOnly, '002_widget_colour.sql'));
      blocker = new pg.Client({ connectionString: databaseUrl, application_name: 'long report' });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT count(*) FROM ${lockedSchema}.widgets`);
      return { settings };
    }

    afterEach(async () => {
      await blocker?.end().catch(() => undefined);
      await pool.query(`DROP SCHEMA IF EXISTS ${lockedSchema} CASCADE`);
      if (firstOnly) await rm(firstOnly, { recursive: true, force: true });
    });

    it('Then the table stays writable while the migration waits, and the migration applies once the lock is free', async () => {
      const { settings } = await holdWidgets();
      const logs = captureLogs();

      const migrating = migrate({ ...settings, lockTimeoutMs: 200, lockRetryDelayMs: 300 }, logs.log);
      await logs.waitFor('migration waited too long for a lock: rolled back, trying again');

      // Without a lock timeout, the ALTER's queued lock would hold this insert until the report ended.
      const writer = new pg.Client({ connectionString: databaseUrl, statement_timeout: 3_000 });
      await writer.connect();
      try {
        await writer.query(`INSERT INTO ${lockedSchema}.widgets (id, label) VALUES (1, 'written while migrating')`);
      } finally {
        await writer.end();
      }
      const retry = logs.find('migration waited too long for a lock: rolled back, trying again')[0];
      expect(retry).toMatchObject({ schema: lockedSchema, lockTimeoutMs: 200 });
      expect(retry?.holders).toEqual(
        expect.arrayContaining([expect.objectContaining({ applicationName: 'long report' })]),
      );

      await blocker.query('COMMIT');
      await migrating;
      const columns = await pool.query(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' ORDER BY ordinal_position`,
        [lockedSchema],
      );
      expect(columns.rows.map((row) => row.column_name)).toEqual(['id', 'label', 'colour']);
    });

    it('Then migrate gives up past its retry period, applies nothing, and lets the next instance migrate', async () => {
      const { settings } = await holdWidgets();

      await expect(
        migrate({ ...settings, lockTimeoutMs: 100, lockRetryDelayMs: 100, lockRetryForMs: 500 }, silentLogger),
      ).rejects.toThrow(/lock timeout/i);

      const applied = await pool.query(`SELECT name FROM ${lockedSchema}.schema_migrations ORDER BY id`);
      expect(applied.rows.map((row) => row.name)).toEqual(['001_widgets']);
      await blocker.query('COMMIT');
      // The advisory lock was released: with it still held, this one would wait for ever.
      await migrate({ ...settings, lockTimeoutMs: 200 }, silentLogger);
      const after = await pool.query(`SELECT name FROM ${lockedSchema}.schema_migrations ORDER BY id`);
      expect(after.rows.map((row) => row.name)).toEqual(['001_widgets', '002_widget_colour']);
    });
  });
});
