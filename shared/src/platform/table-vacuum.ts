import type pg from 'pg';
import type { Logger } from './logger.js';
import type { MaintenanceClient } from './maintenance.js';

/** Past this share of a table's rows dead or new, it is vacuumed even above the row threshold. */
const VACUUM_SCALE = 0.1;

type TableActivity = { table: string; live: number; dead: number; inserted: number; modified: number };

/**
 * VACUUM (ANALYZE) of each table whose dead rows (updates, deletes), rows inserted since its last
 * vacuum, or rows changed since its last analyze passed the threshold (the larger of
 * `thresholdRows` and 10 % of its rows), as autovacuum would. The ANALYZE also makes PostgreSQL plan
 * the tables' prepared statements again, for their size now. VACUUM cannot run in a transaction
 * block: each is a plain statement. SKIP_LOCKED passes over a table someone holds (a migration);
 * TRUNCATE false never takes the exclusive lock that giving pages back to the system would need.
 *
 * `queueTables` pass at `thresholdRows` alone, however many rows they keep. In such a table rows
 * come and go at one end of an index (pending outbox rows, published then; the oldest rows,
 * purged), and the statement that looks for the next ones walks that index from there: it steps
 * over an entry of every row gone since the last vacuum, which nothing but a vacuum removes. At a
 * tenth of a table that keeps a day of traffic, that was an hour or more of traffic between two
 * vacuums, and each claim of the outbox relay read all of it (its index scan: 719 pages and 1.7 ms
 * with 100,000 rows published since a vacuum, 3 pages and 0.03 ms after one). Vacuumed at the
 * threshold, the walk stays within what one interval removed; the vacuum's own cost is a pass over
 * the table's indexes, bounded by its retention, not by how long the service has run.
 */
export async function vacuumIfNeeded(
  client: MaintenanceClient,
  tables: readonly string[],
  thresholdRows: number,
  { queueTables = [], readTimeoutMs }: { queueTables?: readonly string[] | undefined; readTimeoutMs?: number } = {},
): Promise<string[]> {
  const vacuumed: string[] = [];
  for (const activity of await readActivity(client, tables)) {
    const scaled = queueTables.includes(activity.table) ? 0 : VACUUM_SCALE * activity.live;
    const threshold = Math.max(thresholdRows, scaled);
    if (activity.dead < threshold && activity.inserted < threshold && activity.modified < threshold) continue;
    // pg takes a read timeout per query (its types do not say so): a VACUUM may run far longer than
    // the client's own bound for the statements around it.
    await client.query({
      text: `VACUUM (ANALYZE, SKIP_LOCKED, TRUNCATE false) ${quoteTable(activity.table)}`,
      query_timeout: readTimeoutMs,
    } as pg.QueryConfig);
    vacuumed.push(activity.table);
  }
  return vacuumed;
}

async function readActivity(client: MaintenanceClient, tables: readonly string[]): Promise<TableActivity[]> {
  const { rows } = await client.query<TableActivity>(
    `SELECT schemaname || '.' || relname AS "table", n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
            n_ins_since_vacuum::float8 AS inserted, n_mod_since_analyze::float8 AS modified
       FROM pg_stat_user_tables WHERE schemaname || '.' || relname = ANY($1::text[])`,
    [tables],
  );
  return rows;
}

/**
 * Logs one warning at start-up when the server's autovacuum is off: this service's own maintenance
 * then is all that keeps its tables from bloating and their statistics from going stale.
 */
export async function warnIfAutovacuumOff(
  db: MaintenanceClient,
  log: Logger,
  maintained: { tables: readonly string[]; intervalMs: number },
): Promise<boolean> {
  const { rows } = await db.query<{ autovacuum: string }>('SHOW autovacuum');
  if (rows[0]?.autovacuum !== 'off') return false;
  log.warn(
    { autovacuum: 'off', maintainedTables: maintained.tables, maintenanceIntervalMs: maintained.intervalMs },
    'PostgreSQL autovacuum is off: this service vacuums and analyzes its own tables; other tables on this server get no vacuum at all',
  );
  return true;
}

function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}
