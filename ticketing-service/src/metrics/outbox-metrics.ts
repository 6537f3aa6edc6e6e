import { inTransaction, type Logger } from '@notify/shared/platform';
import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type OutboxBacklog, readOutboxBacklog } from '../db/outbox-repository.js';

export type OutboxMetricsDependencies = { pool: pg.Pool; exchange: string; log: Logger };

export type OutboxMetricsSettings = {
  /** Bound on the backlog query of one scrape, on the server (statement_timeout). */
  queryTimeoutMs?: number;
  /** The pending count stops here: past it the gauge reads the cap, meaning "at least". */
  pendingCountCap?: number;
};

export type OutboxMetrics = { countPublished: (rows: number) => void };

/**
 * The outbox's metrics, read at scrape time rather than sampled: a scrape (every 15 s or so)
 * walks the index of due rows as each relay claim does and reads the pending rows alone from the
 * table (see readOutboxBacklog), and the value is as fresh as the scrape with no timer to run or stop.
 * The query is bounded by its own statement_timeout; when the database does not answer in time
 * the gauges read NaN: a stale value would look healthy, and 0 would say "nothing pending".
 */
export function registerOutboxMetrics(
  registry: Registry,
  { pool, exchange, log }: OutboxMetricsDependencies,
  { queryTimeoutMs = 2_000, pendingCountCap = 100_000 }: OutboxMetricsSettings = {},
): OutboxMetrics {
  const queryBacklog = () =>
    inTransaction(pool, async (client) => {
      await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(queryTimeoutMs)]);
      return readOutboxBacklog(client, exchange, pendingCountCap);
    }).catch((err: unknown) => {
      log.warn({ err }, 'outbox metrics unavailable: the backlog query failed');
      return undefined;
    });
  let inFlight: Promise<OutboxBacklog | undefined> | undefined;
  // Both gauges collect in the same scrape: one query serves the two.
  const readBacklog = () => {
    inFlight ??= queryBacklog().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  new Gauge({
    name: 'notify_outbox_pending',
    help: `Outbox rows not yet confirmed by the broker (counted up to ${pendingCountCap}).`,
    registers: [registry],
    async collect() {
      this.set((await readBacklog())?.pending ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'notify_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox row not yet confirmed by the broker; 0 when none is pending.',
    registers: [registry],
    async collect() {
      this.set((await readBacklog())?.oldestPendingAgeSeconds ?? Number.NaN);
    },
  });
  const published = new Counter({
    name: 'notify_outbox_published_total',
    help: 'Outbox rows published, confirmed by the broker and marked published.',
    registers: [registry],
  });
  return {
    countPublished: (rows) => {
      if (rows > 0) published.inc(rows);
    },
  };
}
