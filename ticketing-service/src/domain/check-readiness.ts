import { createPool, type Logger } from '@notify/shared/platform';
import type pg from 'pg';

export type Readiness = {
  status: 'ready' | 'not_ready';
  database: 'up' | 'down';
  broker: 'up' | 'down';
};

export type ReadinessDependencies = { probePool: pg.Pool; brokerReady: () => boolean };

/** A probe answers quickly or says down. */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * The probe's own pool: two connections, 2 s to get one, and a statement_timeout of 2 s, so that a
 * probe that takes too long is cancelled on the server instead of running on after the answer went
 * out. Apart from the API's pool, a burst of requests does not make the service look down.
 */
export function createProbePool(url: string, applicationName: string, log: Logger): pg.Pool {
  return createPool(
    {
      url,
      applicationName: `${applicationName} probe`,
      maxConnections: 2,
      statementTimeoutMs: PROBE_TIMEOUT_MS,
      connectTimeoutMs: PROBE_TIMEOUT_MS,
    },
    log,
  );
}

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
