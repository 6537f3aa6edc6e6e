import type { Queryable } from './notification-repository.js';

/** Only final rows are ever purged or erased: in_progress and retry_scheduled ones still have work. */
export const FINAL_STATUSES = ['sent', 'failed'] as const;

// One batch: the oldest final rows of one status created before the cutoff, through the
// (status, created_at) index. Their attempts go with them (ON DELETE CASCADE, by the attempts'
// primary key). SKIP LOCKED: a row some statement holds waits for the next run.
const PURGE = `
DELETE FROM notifications.notifications
WHERE tracking_id IN (
  SELECT tracking_id FROM notifications.notifications
  WHERE status = $1 AND created_at < now() - make_interval(days => $2::int)
  ORDER BY created_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED)`;

/** Deletes up to `limit` final notifications of `status` older than `retentionDays`, with their attempts. */
export async function purgeNotifications(
  db: Queryable,
  status: (typeof FINAL_STATUSES)[number],
  retentionDays: number,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(PURGE, [status, retentionDays, limit]);
  return rowCount ?? 0;
}

// Through the partial index notifications_personal_data_due, which holds only the final rows not
// erased yet. The row keeps its status, timestamps and attempts; updated_at stays, so the row's
// history reads as it was.
const ERASE = `
UPDATE notifications.notifications
SET recipient_email = NULL, recipient_name = NULL, request = NULL, personal_data_erased_at = now()
WHERE tracking_id IN (
  SELECT tracking_id FROM notifications.notifications
  WHERE personal_data_erased_at IS NULL AND status IN ('sent', 'failed')
    AND created_at < now() - make_interval(days => $1::int)
  ORDER BY created_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED)`;

/** Erases the recipient and the stored request of up to `limit` final notifications older than `retentionDays`. */
export async function erasePersonalData(db: Queryable, retentionDays: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(ERASE, [retentionDays, limit]);
  return rowCount ?? 0;
}
