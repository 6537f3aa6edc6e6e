import { Counter, Histogram, type Registry } from 'prom-client';
import type { WriteObserver } from '../domain/cart-writes.js';

/**
 * How the commands' writes reach PostgreSQL (cart-writes.ts): commands per statement, by kind
 * (its mean is `_sum / _count`; near 1 under a light load, larger as the API gets busier), and
 * the gathered statements that failed as a whole for one row's sake and were written again one
 * command at a time.
 * Many of those mean a fault the single statements would have met too, or, with several
 * instances, their statements deadlocking on the same carts.
 */
export function registerWriteMetrics(registry: Registry): WriteObserver {
  const commands = new Histogram({
    name: 'notify_api_write_statement_commands',
    help: 'Commands written by one statement, by kind of write (insertCart, insertCartWithLines, addCartItem, placeOrder).',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'notify_api_write_statements_failed_total',
    help: 'Statements of several commands that failed for one row (a constraint, a deadlock); each of their commands was then written alone.',
    labelNames: ['kind'],
    registers: [registry],
  });
  return {
    statement: (kind, count) => commands.labels(kind).observe(count),
    failed: (kind) => failed.labels(kind).inc(),
  };
}
