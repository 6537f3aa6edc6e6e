import type { Queryable } from './notification-repository.js';

/** Only final rows are ever purged or erased: an unfinished one is first closed as failed. */
export const FINAL_STATUSES = ['sent', 'failed'] as const;

/** Rows that wait for a delivery: past the personal data retention, none will come to finish them. */
export const UNFINISHED_STATUSES = ['in_progress', 'retry_scheduled'] as const;

const UNFINISHED_PAST_RETENTION_REASON =
  'not finished within its personal data retention: closed as failed and erased, never sent again';

// A row unfinished past the retention is one whose delivery was lost: a retry_scheduled row whose
// delayed message the broker lost, or an in_progress one whose lease lapsed after its settlement was
// refused. No delivery of it can claim it any more (a message older than the retention is
// dead-lettered before the claim), so it becomes failed and is erased in the same statement; the
// purge then deletes it with the other failed rows. Through the (status, created_at) index; an
// in_progress row whose lease still runs is left to its holder.
//
// Every cutoff below is a number of days of 24 hours, as the consumer counts them (a message older
// than PERSONAL_DATA_RETENTION_DAYS × 86,400,000 ms is never claimed). Never `make_interval(days =>
// n)`: subtracted from a timestamptz, days are calendar days of the session's time zone, and across
// a change of its clocks (daylight saving time) n of them are an hour more or less than n × 24 hours.
// An hour less, and the purge deletes a row whose message the consumer still takes as within its
// retention: the claim would store the recipient again and send the email again.
//
// Each batch statement below takes its rows as an array and finds them again by primary key: an
// `IN (subquery)` may be planned as a hash join over the whole table once its statistics say the
// batch is large, which only the sessions' enable_seqscan = off prevents; the array holds
// whatever the session.
const CLOSE_UNFINISHED = `
UPDATE notifications.notifications
SET status = 'failed', last_error = $4, next_attempt_at = NULL, claim_token = NULL, updated_at = now(),
    recipient_email = NULL, recipient_name = NULL, request = NULL, personal_data_erased_at = now()
WHERE tracking_id = ANY(ARRAY(
  SELECT tracking_id FROM notifications.notifications
  WHERE status = $1 AND created_at < now() - make_interval(hours => $2::int * 24)
    AND (status <> 'in_progress' OR lease_expires_at < now())
  ORDER BY created_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED))`;

/** Closes as failed, and erases, up to `limit` notifications of `status` unfinished after `retentionDays`. */
export async function closeUnfinishedNotifications(
  db: Queryable,
  status: (typeof UNFINISHED_STATUSES)[number],
  retentionDays: number,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(CLOSE_UNFINISHED, [
    status,
    retentionDays,
    limit,
    UNFINISHED_PAST_RETENTION_REASON,
  ]);
  return rowCount ?? 0;
}

// One batch: the oldest final rows of one status created before the cutoff, through the
// (status, created_at) index. Their attempts go with them (ON DELETE CASCADE, by the attempts'
// primary key). SKIP LOCKED: a row some statement holds waits for the next run.
const PURGE = `
DELETE FROM notifications.notifications
WHERE tracking_id = ANY(ARRAY(
  SELECT tracking_id FROM notifications.notifications
  WHERE status = $1 AND created_at < now() - make_interval(hours => $2::int * 24)
  ORDER BY created_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED))`;

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
WHERE tracking_id = ANY(ARRAY(
  SELECT tracking_id FROM notifications.notifications
  WHERE personal_data_erased_at IS NULL AND status IN ('sent', 'failed')
    AND created_at < now() - make_interval(hours => $1::int * 24)
  ORDER BY created_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED))`;

/** Erases the recipient and the stored request of up to `limit` final notifications older than `retentionDays`. */
export async function erasePersonalData(db: Queryable, retentionDays: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(ERASE, [retentionDays, limit]);
  return rowCount ?? 0;
}
