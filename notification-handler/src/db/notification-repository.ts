import type { NotificationMessage } from '@notify/shared';
import type pg from 'pg';

export type Queryable = Pick<pg.Pool, 'query'>;

export type ClaimResult =
  | { kind: 'claimed'; previousAttempts: number }
  | { kind: 'sent' }
  | { kind: 'failed' }
  /** Another handler holds the row; `leaseExpiresAt` undefined when the row is not visible yet. */
  | { kind: 'busy'; leaseExpiresAt: Date | undefined };

export type AttemptRecord = {
  number: number;
  startedAt: Date;
  finishedAt: Date;
  outcome: 'sent' | 'transient_error' | 'permanent_error';
  httpStatus?: number | undefined;
  errorCode?: string | undefined;
  message?: string | undefined;
  providerMessageId?: string | undefined;
};

// One statement: insert a new row as in_progress, or take over an in_progress row whose lease has
// run out (its handler died mid-send). A sent or failed row, or a live lease, is left alone and
// read back instead. The read uses the statement's snapshot, so it cannot see the row a
// concurrent insert just made: that case comes back empty and the caller treats it as busy.
const CLAIM = `
WITH claimed AS (
  INSERT INTO notifications.notifications AS n
    (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at)
  VALUES ($1, $2, $3, $4, $5, 'in_progress', now() + make_interval(secs => $6::float8 / 1000), $7)
  ON CONFLICT (tracking_id) DO UPDATE
    SET lease_expires_at = EXCLUDED.lease_expires_at, updated_at = now()
    WHERE n.status = 'in_progress' AND n.lease_expires_at < now()
  RETURNING n.attempt_count
)
SELECT 'claimed' AS status, attempt_count, NULL::timestamptz AS lease_expires_at FROM claimed
UNION ALL
SELECT status, attempt_count, lease_expires_at FROM notifications.notifications
WHERE tracking_id = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`;

export async function claimNotification(
  db: Queryable,
  message: NotificationMessage,
  leaseMs: number,
): Promise<ClaimResult> {
  const { rows } = await db.query<{ status: string; attempt_count: number; lease_expires_at: Date | null }>(CLAIM, [
    message.trackingId,
    message.operation,
    message.recipient.email,
    message.recipient.name,
    message,
    leaseMs,
    message.occurredAt,
  ]);
  const row = rows[0];
  if (!row) return { kind: 'busy', leaseExpiresAt: undefined };
  if (row.status === 'claimed') return { kind: 'claimed', previousAttempts: row.attempt_count };
  if (row.status === 'sent' || row.status === 'failed') return { kind: row.status };
  return { kind: 'busy', leaseExpiresAt: row.lease_expires_at ?? undefined };
}

const INSERT_ATTEMPT = `
  INSERT INTO notifications.notification_attempts
    (tracking_id, attempt_number, started_at, finished_at, outcome, http_status, error_code, message, provider_message_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

function attemptParams(trackingId: string, attempt: AttemptRecord): unknown[] {
  return [
    trackingId,
    attempt.number,
    attempt.startedAt,
    attempt.finishedAt,
    attempt.outcome,
    attempt.httpStatus ?? null,
    attempt.errorCode ?? null,
    attempt.message ?? null,
    attempt.providerMessageId ?? null,
  ];
}

/** A failed provider call: the attempt row and the notification's counters, in one statement. */
export async function recordFailedAttempt(db: Queryable, trackingId: string, attempt: AttemptRecord): Promise<void> {
  await db.query(
    `WITH attempt AS (${INSERT_ATTEMPT})
     UPDATE notifications.notifications
     SET attempt_count = $2, last_error = $8, updated_at = now()
     WHERE tracking_id = $1`,
    attemptParams(trackingId, attempt),
  );
}

export async function markSent(db: Queryable, trackingId: string, attempt: AttemptRecord): Promise<void> {
  await db.query(
    `WITH attempt AS (${INSERT_ATTEMPT})
     UPDATE notifications.notifications
     SET status = 'sent', attempt_count = $2, provider_message_id = $9, last_error = NULL,
         sent_at = $4, updated_at = now()
     WHERE tracking_id = $1`,
    attemptParams(trackingId, attempt),
  );
}

export async function markFailed(db: Queryable, trackingId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE notifications.notifications SET status = 'failed', last_error = $2, updated_at = now()
     WHERE tracking_id = $1`,
    [trackingId, reason],
  );
}

/** Gives up an in_progress row at once, so that its redelivery need not wait out the lease. */
export async function releaseLease(db: Queryable, trackingId: string): Promise<void> {
  await db.query(
    `UPDATE notifications.notifications SET lease_expires_at = now(), updated_at = now()
     WHERE tracking_id = $1 AND status = 'in_progress'`,
    [trackingId],
  );
}

export type ReplayClaim =
  | { kind: 'queued'; request: NotificationMessage }
  | { kind: 'not_found' }
  | { kind: 'not_failed'; status: string };

/** failed → in_progress with an expired lease, so that the re-published message can claim it. */
export async function reopenFailed(db: Queryable, trackingId: string): Promise<ReplayClaim> {
  const { rows } = await db.query<{ request: NotificationMessage }>(
    `UPDATE notifications.notifications
     SET status = 'in_progress', lease_expires_at = now(), updated_at = now()
     WHERE tracking_id = $1 AND status = 'failed'
     RETURNING request`,
    [trackingId],
  );
  if (rows[0]) return { kind: 'queued', request: rows[0].request };
  const current = await db.query<{ status: string }>(
    'SELECT status FROM notifications.notifications WHERE tracking_id = $1',
    [trackingId],
  );
  return current.rows[0] ? { kind: 'not_failed', status: current.rows[0].status } : { kind: 'not_found' };
}

/** Undoes `reopenFailed` when the message could not be re-published. */
export async function revertReopen(db: Queryable, trackingId: string): Promise<void> {
  await db.query(
    `UPDATE notifications.notifications SET status = 'failed', updated_at = now()
     WHERE tracking_id = $1 AND status = 'in_progress'`,
    [trackingId],
  );
}
