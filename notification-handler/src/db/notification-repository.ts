import type { NotificationMessage } from '@notify/shared';
import type pg from 'pg';
import { storableText } from './storable-text.js';

export type Queryable = Pick<pg.Pool, 'query'>;

// The claim and the settlement are prepared (named): they run for every notification, in batches
// that are small unless the handler is behind, and parsing and planning them at each execution
// cost PostgreSQL about a quarter of what the handler's statements cost it (closed-loop bench,
// bench/README.md, "The handler's statements, prepared"). A prepared statement keeps the generic
// plan it got at its first executions for the life of its connection, made on the tables as they
// were then, empty at start-up: statement-plans.test.ts checks that those plans still reach rows
// through an index once the tables are large.

// "The row is in progress", in statements that reach their rows by key. Never `n.status =
// 'in_progress'`: the planner would read that from the status index, whose in_progress range keeps
// an entry for every row settled since the last vacuum (a minute of traffic, or more), and a plan
// that reads the range, alone or ANDed with the key's bitmap, reads all of them at each execution
// (statement-pages.test.ts). IS NOT DISTINCT FROM is = for this NOT NULL column, and no index
// serves it, so the key alone leads to the rows.
const IN_PROGRESS = `n.status IS NOT DISTINCT FROM 'in_progress'`;

export type ClaimResult =
  | { kind: 'claimed'; previousAttempts: number }
  | { kind: 'sent' }
  /** `lastError`: the reason the row keeps, for a copy dead-lettered again. */
  | { kind: 'failed'; lastError: string | undefined }
  /** Another handler holds the row; `leaseExpiresAt` undefined when the row is not visible yet. */
  | { kind: 'busy'; leaseExpiresAt: Date | undefined };

/**
 * A message to claim; `replay` is set on what the replay API queued, which may reopen a failed row.
 * `traceId` is stored when the row is created, never changed after. `claimToken`, one per delivery,
 * is what its settlement, renewal and release must show: the row is theirs only while it is the
 * row's.
 */
export type ClaimRequest = {
  message: NotificationMessage;
  replay: boolean;
  traceId?: string | undefined;
  claimToken: string;
};

export type AttemptRecord = {
  number: number;
  startedAt: Date;
  finishedAt: Date;
  outcome: 'sent' | 'transient_error' | 'permanent_error';
  httpStatus?: number | undefined;
  errorCode?: string | undefined;
  message?: string | undefined;
  providerMessageId?: string | undefined;
  /** The provider the attempt went to (mailjet, sendgrid). */
  provider?: string | undefined;
};

// One statement for a whole batch: insert each new row as in_progress, or take over a row that may
// be sent now: an in_progress row whose lease ran out (its handler died mid-send), a row waiting for
// its delayed retry (its message is here), or a failed row when a replay asks for it and retention has
// not erased its personal data. An in_progress row under this very claim's token is taken again too,
// with a whole lease: an earlier run of the same claim committed and its answer was lost with the
// connection (the claim runs again once a database outage ends), and the lease that run took has
// been running down through the outage, while the delivery counts on a whole one from its claim. A
// sent row, any other failed one, or a live lease, is left alone and read back instead. That read
// uses the statement's snapshot, so it cannot see a row a concurrent insert just made: such an id
// comes back missing, and counts as busy. Rows are taken in id order, so that two handlers claiming
// overlapping batches cannot deadlock. The read-back probes the primary key (= ANY), whatever the
// statistics say.
const CLAIM = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    tracking_id uuid, operation text, recipient_email text, recipient_name text, request jsonb,
    occurred_at timestamptz, replay boolean, trace_id text, claim_token uuid)
  ORDER BY tracking_id
),
claimed AS (
  INSERT INTO notifications.notifications AS n
    (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at,
     trace_id, claim_token)
  SELECT tracking_id, operation, recipient_email, recipient_name, request, 'in_progress',
         now() + make_interval(secs => $2::float8 / 1000), occurred_at, trace_id, claim_token
  FROM input
  ON CONFLICT (tracking_id) DO UPDATE
    SET status = 'in_progress', lease_expires_at = EXCLUDED.lease_expires_at, next_attempt_at = NULL,
        claim_token = EXCLUDED.claim_token, updated_at = now()
    WHERE (n.status = 'in_progress' AND (n.lease_expires_at < now() OR n.claim_token = EXCLUDED.claim_token))
       OR n.status = 'retry_scheduled'
       OR (n.status = 'failed' AND n.personal_data_erased_at IS NULL
           AND EXCLUDED.tracking_id IN (SELECT tracking_id FROM input WHERE replay))
  RETURNING n.tracking_id, n.attempt_count
)
SELECT tracking_id, 'claimed' AS status, attempt_count, NULL::timestamptz AS lease_expires_at, NULL AS last_error,
       false AS erased
FROM claimed
UNION ALL
SELECT n.tracking_id, n.status, n.attempt_count, n.lease_expires_at, n.last_error,
       n.personal_data_erased_at IS NOT NULL AS erased
FROM notifications.notifications n
WHERE n.tracking_id = ANY($3::uuid[]) AND n.tracking_id NOT IN (SELECT tracking_id FROM claimed)`;

type ClaimRow = {
  tracking_id: string;
  status: string;
  attempt_count: number;
  lease_expires_at: Date | null;
  last_error: string | null;
  erased: boolean;
};

/** Claims a batch of distinct messages; one result per message, in order. */
export async function claimNotifications(
  db: Queryable,
  requests: readonly ClaimRequest[],
  leaseMs: number,
): Promise<ClaimResult[]> {
  const input = requests.map(({ message, replay, traceId, claimToken }) => ({
    tracking_id: message.trackingId,
    operation: message.operation,
    recipient_email: message.recipient.email,
    recipient_name: message.recipient.name,
    request: message,
    occurred_at: message.occurredAt,
    replay,
    trace_id: traceId ?? null,
    claim_token: claimToken,
  }));
  const { rows } = await db.query<ClaimRow>({
    name: 'notifications.claim',
    text: CLAIM,
    values: [JSON.stringify(input), leaseMs, input.map((row) => row.tracking_id)],
  });
  const byId = new Map(rows.map((row) => [row.tracking_id, row]));
  return requests.map(({ message }) => toClaimResult(byId.get(message.trackingId)));
}

/**
 * A replay of a failed notification whose personal data retention erased (a dead-letter copy kept
 * past PERSONAL_DATA_RETENTION_DAYS) does not reopen it: that email is no longer ours to send.
 */
const ERASED_REASON = 'personal data erased after its retention period: not sent again';

function toClaimResult(row: ClaimRow | undefined): ClaimResult {
  if (!row) return { kind: 'busy', leaseExpiresAt: undefined };
  if (row.status === 'claimed') return { kind: 'claimed', previousAttempts: row.attempt_count };
  if (row.status === 'sent') return { kind: 'sent' };
  if (row.status === 'failed')
    return { kind: 'failed', lastError: row.erased ? ERASED_REASON : (row.last_error ?? undefined) };
  // retry_scheduled is always claimable: seen here only when a concurrent statement changed it.
  return { kind: 'busy', leaseExpiresAt: row.lease_expires_at ?? undefined };
}

/**
 * What happened to a notification after a provider call: `in_progress` with a failed attempt
 * (a retry follows), `sent` with its attempt, `retry_scheduled` (its message waits in a delay queue
 * until `nextAttemptAt`) or `failed` with the reason (the attempt, if any, was recorded before).
 */
export type Settlement = {
  trackingId: string;
  /** The delivery's claim: a row another delivery took over since is left as that one has it. */
  claimToken: string;
  status: 'in_progress' | 'sent' | 'retry_scheduled' | 'failed';
  attempt?: AttemptRecord | undefined;
  lastError?: string | undefined;
  nextAttemptAt?: Date | undefined;
};

// The attempt is recorded only for a row this statement settled. A delivery whose lease was taken
// over numbers its calls from the same count as the one that took the row: its late attempt, written
// first, would take that number, and the holder's own attempt (its `sent` one, say) would be dropped
// as a repeat. RETURNING gives the rows as the UPDATE found them once it held their locks (a takeover
// committed meanwhile is seen), where a read of the table in the statement's snapshot would not be.
const SETTLE = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    tracking_id uuid, claim_token uuid, status text, last_error text, attempt_number integer,
    started_at timestamptz, finished_at timestamptz, outcome text, http_status integer, error_code text,
    message text, provider_message_id text, provider text, next_attempt_at timestamptz)
),
settled AS (
  UPDATE notifications.notifications n
  SET status = i.status,
      attempt_count = COALESCE(i.attempt_number, n.attempt_count),
      last_error = CASE WHEN i.status = 'sent' THEN NULL ELSE COALESCE(i.last_error, n.last_error) END,
      provider_message_id = COALESCE(i.provider_message_id, n.provider_message_id),
      sent_at = CASE WHEN i.status = 'sent' THEN i.finished_at ELSE n.sent_at END,
      next_attempt_at = i.next_attempt_at,
      -- A failed attempt with a retry to follow: the handler is alive and at work, so its claim holds
      -- for another lease (free retries, a 429's, are bounded by the deadline, not by the lease).
      lease_expires_at = CASE WHEN i.status = 'in_progress'
        THEN now() + make_interval(secs => $3::float8 / 1000) ELSE n.lease_expires_at END,
      updated_at = now()
  FROM input i
  -- The rows are found by primary key from the ids ($2), never by joining the whole table to the
  -- input: the planner guesses jsonb_to_recordset at 100 rows and may hash-join it against a scan.
  -- A handler whose lease was taken over must not overwrite the outcome of the one that took it: the
  -- row is settled only under the claim that holds it.
  WHERE n.tracking_id = ANY($2::uuid[]) AND n.tracking_id = i.tracking_id AND ${IN_PROGRESS}
    AND n.claim_token = i.claim_token
  RETURNING n.tracking_id
)
INSERT INTO notifications.notification_attempts
  (tracking_id, attempt_number, started_at, finished_at, outcome, http_status, error_code, message, provider_message_id,
   provider)
SELECT i.tracking_id, i.attempt_number, i.started_at, i.finished_at, i.outcome, i.http_status, i.error_code, i.message,
       i.provider_message_id, i.provider
FROM input i JOIN settled s ON s.tracking_id = i.tracking_id
WHERE i.attempt_number IS NOT NULL
-- A repeated settlement (a statement that committed but timed out on our side) changes nothing.
ON CONFLICT (tracking_id, attempt_number) DO NOTHING`;

/**
 * Records a batch of settlements (for distinct notifications) in one statement; an `in_progress`
 * one extends its row's lease to `leaseMs` from now.
 */
export async function settleNotifications(
  db: Queryable,
  settlements: readonly Settlement[],
  leaseMs: number,
): Promise<void> {
  const input = settlements.map(({ trackingId, claimToken, status, attempt, lastError, nextAttemptAt }) => ({
    tracking_id: trackingId,
    claim_token: claimToken,
    status,
    last_error: storableText(lastError ?? attempt?.message ?? null),
    attempt_number: attempt?.number ?? null,
    started_at: attempt?.startedAt ?? null,
    finished_at: attempt?.finishedAt ?? null,
    outcome: attempt?.outcome ?? null,
    http_status: attempt?.httpStatus ?? null,
    error_code: storableText(attempt?.errorCode ?? null),
    message: storableText(attempt?.message ?? null),
    provider_message_id: storableText(attempt?.providerMessageId ?? null),
    provider: attempt?.provider ?? null,
    next_attempt_at: nextAttemptAt ?? null,
  }));
  await db.query({
    name: 'notifications.settle',
    text: SETTLE,
    values: [JSON.stringify(input), input.map((row) => row.tracking_id), leaseMs],
  });
}

/** Gives up an in_progress row at once, so that its redelivery need not wait out the lease. */
export async function releaseLease(db: Queryable, trackingId: string, claimToken: string): Promise<void> {
  await db.query(
    `UPDATE notifications.notifications n SET lease_expires_at = now(), updated_at = now()
     WHERE n.tracking_id = $1 AND ${IN_PROGRESS} AND n.claim_token = $2`,
    [trackingId, claimToken],
  );
}

/**
 * Extends a live claim, after a wait (an open breaker) that may have outlasted the lease. False when
 * the claim is no longer this delivery's: another took the row over meanwhile, and only it may send.
 */
export async function renewLease(
  db: Queryable,
  trackingId: string,
  claimToken: string,
  leaseMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE notifications.notifications n
     SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
     WHERE n.tracking_id = $1 AND ${IN_PROGRESS} AND n.claim_token = $2`,
    [trackingId, claimToken, leaseMs],
  );
  return rowCount === 1;
}
