import type { HistorySize } from '@notify/test-support/system/index.js';
import { WATCHED_TABLES } from './table-rows.js';

/**
 * What `--history N` loads: N of each kind of row the services keep. Carts, their lines and orders
 * are business records, never purged: in a deployment they are the largest tables of all, and the
 * API writes and reads them on every request.
 */
export function historySize(rows: number): HistorySize {
  return { notifications: rows, outbox: rows, idempotencyKeys: rows, carts: rows };
}

/** After the load, every table the services maintain, as their maintenance would have left it. */
export const HISTORY_VACUUM = `VACUUM (ANALYZE) ${WATCHED_TABLES.join(', ')}`;
