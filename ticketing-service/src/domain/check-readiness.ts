import type pg from 'pg';
import { countPending } from '../db/outbox-repository.js';

export type Readiness = {
  status: 'ready' | 'not_ready';
  database: 'up' | 'down';
  broker: 'up' | 'down';
  /** Notifications accepted but not yet confirmed by the broker; null when the database is down. */
  outboxPending: number | null;
};

export type ReadinessDependencies = { pool: pg.Pool; exchange: string; brokerReady: () => boolean };

/** A probe answers quickly or says down: it never waits on the pool's longer timeouts. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Ready means the database answers. The broker is reported but does not decide: while it is away
 * the API keeps accepting work into the outbox, which is the point of having one.
 */
export async function checkReadiness({ pool, exchange, brokerReady }: ReadinessDependencies): Promise<Readiness> {
  const broker = brokerReady() ? 'up' : 'down';
  try {
    const outboxPending = await withTimeout(countPending(pool, exchange), PROBE_TIMEOUT_MS);
    return { status: 'ready', database: 'up', broker, outboxPending };
  } catch {
    return { status: 'not_ready', database: 'down', broker, outboxPending: null };
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
