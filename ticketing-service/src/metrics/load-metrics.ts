import { Counter, Gauge, type Registry } from 'prom-client';

export type LoadMetrics = { countShed: () => void };

/**
 * How close the API is to refusing work: the requests waiting for the database, read at
 * scrape time, and the requests refused because too many were waiting (see load-shedding.ts).
 */
export function registerLoadMetrics(registry: Registry, waitingForDatabase: () => number): LoadMetrics {
  new Gauge({
    name: 'notify_api_requests_waiting_for_database',
    help: 'Requests waiting for a connection of the API pool, or for the statement that writes them with others, at the scrape.',
    registers: [registry],
    collect() {
      this.set(waitingForDatabase());
    },
  });
  const shed = new Counter({
    name: 'notify_api_requests_shed_total',
    help: 'Requests answered 503 at once because too many were waiting for a database connection.',
    registers: [registry],
  });
  return { countShed: () => shed.inc() };
}
