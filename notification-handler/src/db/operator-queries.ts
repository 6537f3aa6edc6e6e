import { type NotificationStatus, STATUSES } from './notification-queries.js';
import type { Queryable } from './notification-repository.js';

export type StatusCounts = Record<NotificationStatus, { lastHour: number; lastDay: number }>;

/**
 * Where the overview stops counting a status: past it, the page says "at least". A day of traffic at
 * a thousand notifications a second is tens of millions of rows, which no page load should read;
 * Prometheus's counters are the place for rates (README, "Metrics").
 */
export const OVERVIEW_COUNT_CAP = 10_000;

/**
 * Notifications created in the last hour and the last 24 hours (not a calendar day of the
 * session's time zone, 23 or 25 hours long when its clocks change), by their status now, each
 * counted up to `OVERVIEW_COUNT_CAP`: per status, a range of the (status, created_at) index read
 * until the cap, so that a page load costs at most a few caps of rows however busy the day was.
 */
export async function countByStatus(db: Queryable): Promise<StatusCounts> {
  const { rows } = await db.query<{ status: NotificationStatus; lastHour: number; lastDay: number }>(
    `SELECT s.status,
       (SELECT count(*) FROM (SELECT FROM notifications.notifications n
          WHERE n.status = s.status AND n.created_at >= now() - interval '1 hour' LIMIT $2) AS capped)::int AS "lastHour",
       (SELECT count(*) FROM (SELECT FROM notifications.notifications n
          WHERE n.status = s.status AND n.created_at >= now() - interval '24 hours' LIMIT $2) AS capped)::int AS "lastDay"
     FROM unnest($1::text[]) AS s (status)`,
    [STATUSES, OVERVIEW_COUNT_CAP],
  );
  const counts = Object.fromEntries(STATUSES.map((status) => [status, { lastHour: 0, lastDay: 0 }])) as StatusCounts;
  for (const row of rows) counts[row.status] = { lastHour: row.lastHour, lastDay: row.lastDay };
  return counts;
}

/** The message as the handler received it (what a replay publishes again). */
export async function findStoredRequest(db: Queryable, trackingId: string): Promise<unknown> {
  const { rows } = await db.query<{ request: unknown }>(
    'SELECT request FROM notifications.notifications WHERE tracking_id = $1',
    [trackingId],
  );
  return rows[0]?.request;
}
