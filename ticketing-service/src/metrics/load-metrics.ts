import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';

export type LoadMetrics = { countShed: () => void };

/**
 * How close the API is to refusing work: the requests waiting for a database connection, read at
 * scrape time, and the requests refused because too many were waiting (see load-shedding.ts).
 */
export function registerLoadMetrics(registry: Registry, pool: Pick<pg.Pool, 'waitingCount'>): LoadMetrics {
  new Gauge({
    name: 'notify_api_requests_waiting_for_database',
    help: 'Requests waiting for a connection of the API pool at the scrape.',
    registers: [registry],
    collect() {
      this.set(pool.waitingCount);
    },
  });
  const shed = new Counter({
    name: 'notify_api_requests_shed_total',
    help: 'Requests answered 503 at once because too many were waiting for a database connection.',
    registers: [registry],
  });
  return { countShed: () => shed.inc() };
}
