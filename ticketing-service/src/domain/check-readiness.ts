import type pg from 'pg';

export type Readiness = {
  status: 'ready' | 'not_ready';
  database: 'up' | 'down';
  broker: 'up' | 'down';
};

export type ReadinessDependencies = { probePool: pg.Pool; brokerReady: () => boolean };

/**
 * Ready means the database answers and the outbox can be written to: the probe reads no row, but
 * waits like any writer would if something (a migration) held the outbox locked. The outbox is not
 * counted here: its backlog is a metric (/metrics), and a count would read more the more it grows.
 * The broker is reported but does not decide: while it is away the API keeps accepting work into
 * the outbox, which is the point of having one.
 */
export async function checkReadiness({ probePool, brokerReady }: ReadinessDependencies): Promise<Readiness> {
  const broker = brokerReady() ? 'up' : 'down';
  try {
    await probePool.query('SELECT 1 FROM ticketing.outbox LIMIT 0');
    return { status: 'ready', database: 'up', broker };
  } catch {
    return { status: 'not_ready', database: 'down', broker };
  }
}
