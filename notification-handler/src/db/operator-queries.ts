import { type NotificationStatus, STATUSES } from './notification-queries.js';
import type { Queryable } from './notification-repository.js';

export type StatusCounts = Record<NotificationStatus, { lastHour: number; lastDay: number }>;

/**
 * Notifications created in the last hour and the last day, by their status now: one range scan of
 * the created_at index, bounded by the pool's statement timeout.
 */
export async function countByStatus(db: Queryable): Promise<StatusCounts> {
  const { rows } = await db.query<{ status: NotificationStatus; lastHour: number; lastDay: number }>(
    `SELECT status,
       (count(*) FILTER (WHERE created_at >= now() - interval '1 hour'))::int AS "lastHour",
       count(*)::int AS "lastDay"
     FROM notifications.notifications
     WHERE created_at >= now() - interval '1 day'
     GROUP BY status`,
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
