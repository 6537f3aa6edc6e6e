import type pg from 'pg';

/** The tables the services maintain themselves: their dead rows are what the bench and the soak watch. */
export const WATCHED_TABLES = [
  'notifications.notifications',
  'notifications.notification_attempts',
  'ticketing.outbox',
  'ticketing.idempotency_keys',
  'ticketing.carts',
  'ticketing.cart_items',
  'ticketing.orders',
];

/** Live and dead rows, and how many times the table was vacuumed so far (by the services' maintenance). */
export type TableRows = { live: number; dead: number; vacuums: number };

export async function readTableRows(db: pg.Pool): Promise<Record<string, TableRows>> {
  const { rows } = await db.query<{ name: string; live: number; dead: number; vacuums: number }>(
    `SELECT schemaname || '.' || relname AS name, n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
            (vacuum_count + autovacuum_count)::float8 AS vacuums
       FROM pg_stat_user_tables WHERE schemaname || '.' || relname = ANY($1::text[])`,
    [WATCHED_TABLES],
  );
  return Object.fromEntries(rows.map((row) => [row.name, { live: row.live, dead: row.dead, vacuums: row.vacuums }]));
}
