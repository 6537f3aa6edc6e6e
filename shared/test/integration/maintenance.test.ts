import { randomBytes } from 'node:crypto';
import {
  lockKey,
  type MaintenanceSettings,
  startMaintenance,
  vacuumIfNeeded,
  warnIfAutovacuumOff,
} from '@notify/shared/platform';
import { captureLogs, silentLogger } from '@notify/test-support/logger.js';
import { proxyFor } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const unique = (label: string) => `${label}_${randomBytes(4).toString('hex')}`;

function settings(overrides: Partial<MaintenanceSettings>): MaintenanceSettings {
  return {
    name: unique('job'),
    databaseUrl: inject('databaseUrl'),
    intervalMs: 3_600_000,
    batchSize: 100,
    vacuumThresholdRows: 1_000,
    tasks: [],
    tables: [],
    log: silentLogger,
    ...overrides,
  };
}

/** A task that holds its run open until released: long enough for a second instance to try. */
function gatedTask() {
  let release: () => void = () => undefined;
  let entered: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let runs = 0;
  return {
    task: {
      name: 'gated',
      run: async () => {
        runs += 1;
        entered();
        await gate;
        return 0;
      },
    },
    inside,
    release,
    runs: () => runs,
  };
}

describe('table maintenance (shared platform)', () => {
  let db: pg.Pool;
  const schema = unique('maintenance');

  beforeAll(async () => {
    db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
    db.on('error', () => undefined);
    await db.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await db?.query(`DROP SCHEMA ${schema} CASCADE`);
    await db?.end();
  });

  it('When two instances run at once, then only one holds the advisory lock and runs its tasks', async () => {
    const gated = gatedTask();
    const name = unique('job');
    const first = startMaintenance(settings({ name, tasks: [gated.task] }));
    const second = startMaintenance(settings({ name, tasks: [gated.task] }));

    const firstRun = first.runOnce();
    await gated.inside;
    const holders = await db.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [lockKey(name)],
    );
    const secondRun = await second.runOnce();
    gated.release();

    expect(holders.rows[0].n).toBe(1);
    expect(secondRun).toEqual({ ran: false, reason: 'another instance holds the lock' });
    expect(await firstRun).toMatchObject({ ran: true, changed: { gated: 0 } });
    expect(gated.runs()).toBe(1);
    expect(await second.runOnce()).toMatchObject({ ran: true });
    await Promise.all([first.stop(), second.stop()]);
  });

  /** pg_stat_user_tables lags the statements by up to a second: wait until it shows what they did. */
  async function statsSettle(table: string, wanted: { inserted?: number; dead?: number; modified?: number }) {
    const [tableSchema, name] = table.split('.');
    await waitFor(
      async () => {
        const { rows } = await db.query(
          `SELECT n_ins_since_vacuum::int AS inserted, n_dead_tup::int AS dead, n_mod_since_analyze::int AS modified
             FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
          [tableSchema, name],
        );
        const stats = rows[0] ?? {};
        return Object.entries(wanted).every(([key, value]) => stats[key] === value) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: `statistics of ${table} to be ${JSON.stringify(wanted)}` },
    );
  }

  /** A table of `rows` rows, just vacuumed and analyzed: nothing dead, new or changed since. */
  async function vacuumedTable(table: string, rows: number) {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await db.query(`INSERT INTO ${table} SELECT generate_series(1, $1)`, [rows]);
    await statsSettle(table, { inserted: rows });
    await db.query(`VACUUM (ANALYZE) ${table}`);
    await statsSettle(table, { inserted: 0, modified: 0 });
  }

  it('When a table has more dead rows than the threshold, then it is vacuumed, and a quiet one is not', async () => {
    const [busy, quiet] = [`${schema}.busy`, `${schema}.quiet`];
    for (const table of [busy, quiet]) await vacuumedTable(table, 3_000);
    await db.query(`DELETE FROM ${busy} WHERE id <= 2000`);
    await db.query(`DELETE FROM ${quiet} WHERE id <= 10`);
    await statsSettle(busy, { dead: 2000 });
    await statsSettle(quiet, { dead: 10 });
    const client = await db.connect();

    const vacuumed = await vacuumIfNeeded(client, [busy, quiet], 1_000).finally(() => client.release());

    expect(vacuumed).toEqual([busy]);
    await statsSettle(busy, { dead: 0, modified: 0 });
  });

  it('When a large table changed by less than a tenth of its rows, then only a queue table is vacuumed', async () => {
    const [records, queue] = [`${schema}.records`, `${schema}.queue`];
    for (const table of [records, queue]) {
      await vacuumedTable(table, 30_000);
      // Past the threshold of 1,000 rows, short of a tenth of the table's.
      await db.query(`DELETE FROM ${table} WHERE id <= 2000`);
      await statsSettle(table, { dead: 2000 });
    }
    const client = await db.connect();

    const vacuumed = await vacuumIfNeeded(client, [records, queue], 1_000, { queueTables: [queue] }).finally(() =>
      client.release(),
    );

    expect(vacuumed).toEqual([queue]);
  });

  it('When a task fails, then the tasks after it and the vacuums still run, and the failure is logged with its task', async () => {
    const table = `${schema}.after_failure`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await db.query(`INSERT INTO ${table} SELECT generate_series(1, 3000)`);
    await statsSettle(table, { inserted: 3000 });
    const logs = captureLogs();
    const timedOut = {
      name: 'always times out',
      run: async (client: Pick<pg.Client, 'query'>) => {
        // The job's batch timeout, shortened on this session: the vacuums set their own after the tasks.
        await client.query('SET statement_timeout = 50');
        await client.query('SELECT pg_sleep(5)');
        return 0;
      },
    };
    const later = { name: 'later', run: async () => 7 };
    const job = startMaintenance(settings({ tasks: [timedOut, later], tables: [table], log: logs.log }));

    const run = await job.runOnce().finally(() => job.stop());

    expect(run).toEqual({ ran: true, changed: { later: 7 }, vacuumed: [table], failed: ['always times out'] });
    const warning = logs.lines.find((line) => line.task === 'always times out');
    expect(warning).toMatchObject({ level: 40, err: { code: '57014' } });
  });

  it('When the job stops during a long statement, then the statement is cancelled and stop does not wait it out', async () => {
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow = {
      name: 'slow',
      run: async (client: Pick<pg.Client, 'query'>) => {
        entered();
        await client.query('SELECT pg_sleep(25)');
        return 0;
      },
    };
    const job = startMaintenance(settings({ tasks: [slow] }));
    const run = job.runOnce();
    await inside;
    const startedAt = Date.now();

    await job.stop();

    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await expect(run).rejects.toThrow(/cancel/i);
  });

  it('When the job stops between two statements, then the next one fails at once instead of running', async () => {
    // Through a proxy, to see the cancel's own connection come and go: only then does the task go
    // on, so that the cancel surely landed between its two statements.
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let goOn: () => void = () => undefined;
    const cancelled = new Promise<void>((resolve) => {
      goOn = resolve;
    });
    const twoSteps = {
      name: 'two steps',
      run: async (client: Pick<pg.Client, 'query'>) => {
        await client.query('SELECT 1');
        entered();
        await cancelled;
        // Longer than the test may take: a stop that let it run would wait it out.
        await client.query('SELECT pg_sleep(60)');
        return 0;
      },
    };
    const job = startMaintenance(settings({ tasks: [twoSteps], databaseUrl: viaProxy }));
    try {
      const run = job.runOnce();
      await inside;
      const accepted = proxy.acceptedConnections;

      const stopped = job.stop();
      await waitFor(() => (proxy.acceptedConnections > accepted && proxy.openConnections <= 1 ? true : undefined), {
        what: 'the cancel to have been sent and its connection closed',
      });
      goOn();
      await stopped;

      await expect(run).rejects.toThrow();
    } finally {
      await proxy.close();
    }
  });

  /**
   * A run whose purge waits on a row lock held here, on a connection through a proxy that then goes
   * silent. `release` lets the lock go and stops the job and the proxy.
   */
  async function runSilencedDuringPurge(label: string, overrides: Partial<MaintenanceSettings> = {}) {
    const table = `${schema}.${label}`;
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await db.query(`INSERT INTO ${table} VALUES (1)`);
    const name = unique('job');
    const purge = {
      name: 'purge',
      run: async (client: Pick<pg.Client, 'query'>) => {
        // Waits until the statement's bound, not the job's lock_timeout (a tenth of it), which a
        // loaded machine slow to silence the proxy could otherwise reach first.
        await client.query('SET lock_timeout = 0');
        return (await client.query(`DELETE FROM ${table}`)).rowCount ?? 0;
      },
    };
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    const job = startMaintenance(settings({ name, tasks: [purge], databaseUrl: viaProxy, ...overrides }));
    const locker = await db.connect();
    const release = async () => {
      await locker.query('ROLLBACK').finally(() => locker.release());
      await job.stop();
      await proxy.close();
    };
    const sessions = async (condition = '') =>
      (
        await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 ${condition}`, [
          `${name} maintenance`,
        ])
      ).rowCount ?? 0;
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT id FROM ${table} FOR UPDATE`);
      const run = job.runOnce();
      run.catch(() => undefined);
      await waitFor(async () => ((await sessions("AND wait_event_type = 'Lock'")) > 0 ? true : undefined), {
        what: 'the purge to wait on the row lock',
      });
      proxy.blackhole();
      /** The server ended the run's session, and with it the job's advisory lock. */
      const sessionEnded = (what: string) =>
        waitFor(async () => ((await sessions()) === 0 ? true : undefined), { what, timeoutMs: 10_000 });
      return { job, run, release, sessionEnded };
    } catch (error) {
      await release();
      throw error;
    }
  }

  it('When the database goes silent during a purge, then the stop drops the connection without waiting out the cancel, and the server ends the session', async () => {
    // The cancel's own connection, through a silent proxy, never gets an answer: waited for, it costs
    // its connect timeout (5 s). The stop gives it 1 s, then drops the run's connection.
    const stopLimitMs = 2_500;
    const { job, run, release, sessionEnded } = await runSilencedDuringPurge('held_purge');
    try {
      const startedAt = Date.now();

      await job.stop();

      expect(Date.now() - startedAt).toBeLessThan(stopLimitMs);
      await expect(run).rejects.toThrow();
      // The lock still held: a session left waiting on it would hold the job's advisory lock too,
      // and every instance would skip its runs, until the lock came free.
      await sessionEnded("the server to end the dropped run's session");
    } finally {
      await release();
    }
  });

  it('When the database goes silent during a purge, then the run gives up within the statement bound, and the server ends its idle session', async () => {
    // The statements' bound, shortened: the run's read timeout is it plus 5 s. Before, every
    // statement of the run waited up to the vacuums' 30 minutes, and this test its own timeout.
    const { run, release, sessionEnded } = await runSilencedDuringPurge('silent_purge', {
      batchStatementTimeoutMs: 1_000,
    });
    try {
      // The purge's wait ends on the server (its statement bound), whose answer no longer gets through.
      await expect(run).rejects.toThrow(/Query read timeout/);
      // Its session, idle and holding the job's advisory lock, is ended by the server.
      await sessionEnded("the server to end the silent run's session");
    } finally {
      await release();
    }
  }, 30_000);

  it('When the job stops while its run is still connecting to a silent database, then the stop and the run both end', async () => {
    const { proxy, url: viaProxy } = await proxyFor(inject('databaseUrl'));
    const job = startMaintenance(settings({ databaseUrl: viaProxy }));
    try {
      proxy.blackhole();
      const run = job.runOnce();
      run.catch(() => undefined);
      await waitFor(() => (proxy.acceptedConnections > 0 ? true : undefined), {
        what: "the run's connection to reach the silent proxy",
      });

      // A run that never hears back from its connect would hold the stop, and the service's shutdown, for ever.
      await job.stop();

      await expect(run).rejects.toThrow();
    } finally {
      await proxy.close();
    }
  });

  it('When the server runs with autovacuum off, then the start-up check logs one warning naming the tables', async () => {
    const logs = captureLogs();
    const { rows } = await db.query('SHOW autovacuum');

    const warned = await warnIfAutovacuumOff(db, logs.log, { tables: ['a.b'], intervalMs: 60_000 });

    const lines = logs.lines.filter((line) => String(line.msg).startsWith('PostgreSQL autovacuum is off'));
    expect(warned).toBe(rows[0].autovacuum === 'off');
    expect(lines).toHaveLength(warned ? 1 : 0);
    if (warned) expect(lines[0]).toMatchObject({ level: 40, maintainedTables: ['a.b'] });
  });
});
