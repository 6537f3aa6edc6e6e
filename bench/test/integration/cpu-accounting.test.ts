import { readFileSync } from 'node:fs';
import { testPool } from '@notify/test-support/pool.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import '@notify/test-support/provided-context.js';
import { withDatabase } from '@notify/test-support/system/database.js';
import { BENCH_CHECKS, POSTGRES_SERVER, runBackends, snapshotCpu } from '../../lib/cpu-accounting.js';

describe('snapshotCpu', () => {
  const db = testPool({ connectionString: withDatabase(inject('databaseUrl'), 'postgres'), max: 1 });
  afterAll(() => db.end());

  it('When a snapshot is taken, then PostgreSQL’s own processes are in it: the postmaster and its writers', async () => {
    const { rows } = await db.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer')",
    );
    const { rows: own } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${own[0]?.pid}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);

    const snapshot = await snapshotCpu({ processes: [], db, databaseName: 'postgres', brokerPorts: [] });

    const server = [...snapshot.backends].filter(([, entry]) => entry.component === POSTGRES_SERVER);
    expect(server.map(([pid]) => pid)).toEqual(expect.arrayContaining([postmaster, ...rows.map((row) => row.pid)]));
    expect(rows).toHaveLength(2);
  });
});

describe('runBackends', () => {
  it('When the bench’s own connection asks, then it counts itself too: the same polling is counted at every snapshot', async () => {
    const db = testPool({ connectionString: withDatabase(inject('databaseUrl'), 'postgres'), max: 1 });
    try {
      const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');

      const backends = await runBackends({ processes: [], db, databaseName: 'postgres', brokerPorts: [] });

      expect(backends).toContainEqual({ pid: rows[0]?.pid, component: BENCH_CHECKS });
    } finally {
      await db.end();
    }
  });
});
