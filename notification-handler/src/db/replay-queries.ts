import type { NotificationMessage } from '@notify/shared';
import { classifyDatabaseError } from './database-errors.js';
import type { Queryable } from './notification-repository.js';

/** What replay may queue again: a failed notification, or one waiting for its delayed retry. */
export const REPLAYABLE_STATUSES = ['failed', 'retry_scheduled'] as const;
export type ReplayableStatus = (typeof REPLAYABLE_STATUSES)[number];

/**
 * A replay is pending from its mark until the row changes again, as the consumer's claim of the
 * replayed message changes it: until then another replay would only queue a second copy. The mark
 * is the time the row was read before publishing (see `markReplayQueued`). Both replays, single and
 * bulk, leave a pending one alone, for `pendingForMs` (the send deadline) at most: a replayed
 * message that never reaches the consumer (its queue purged, say) would otherwise leave the row
 * pending for good, refused by every replay, and one that waited in the queue that long is more
 * likely lost than late. A late one is still sent when it comes (past the deadline a delivery
 * gets no delayed retry, but it does get its calls), and a second copy queued after it is
 * harmless: the claim takes the row once, and the other copy finds it sent (or, failed again,
 * tries it once more).
 */
function replayPending(pendingForMsParam: string): string {
  return `replay_queued_at IS NOT NULL AND replay_queued_at >= updated_at
      AND replay_queued_at > statement_timestamp() - ${pendingForMsParam}::float8 * interval '1 millisecond'`;
}

export type ReplayCandidate =
  /** `readAt`: the database's time when the row was read, what `markReplayQueued` records. */
  | { kind: 'replayable'; request: NotificationMessage; readAt: Date }
  | { kind: 'not_found' }
  | { kind: 'not_replayable'; status: string }
  /** Queued again already, and not taken by the consumer yet. */
  | { kind: 'replay_pending'; replayQueuedAt: Date }
  /** Its stored request was erased with the personal data: nothing is left to send. */
  | { kind: 'erased'; erasedAt: Date };

export async function findReplayCandidate(
  db: Queryable,
  trackingId: string,
  pendingForMs: number,
): Promise<ReplayCandidate> {
  const { rows } = await db.query<{
    status: string;
    request: NotificationMessage | null;
    erased_at: Date | null;
    replay_queued_at: Date | null;
    replay_pending: boolean;
    read_at: Date;
  }>(
    `SELECT status, request, personal_data_erased_at AS erased_at, replay_queued_at,
            ${replayPending('$2')} AS replay_pending, statement_timestamp() AS read_at
     FROM notifications.notifications WHERE tracking_id = $1`,
    [trackingId, pendingForMs],
  );
  const row = rows[0];
  if (!row) return { kind: 'not_found' };
  if (row.erased_at || !row.request) return { kind: 'erased', erasedAt: row.erased_at ?? new Date(0) };
  if (!(REPLAYABLE_STATUSES as readonly string[]).includes(row.status))
    return { kind: 'not_replayable', status: row.status };
  if (row.replay_pending && row.replay_queued_at)
    return { kind: 'replay_pending', replayQueuedAt: row.replay_queued_at };
  return { kind: 'replayable', request: row.request, readAt: row.read_at };
}

export type ReplayRange = { status: ReplayableStatus; from: Date; to: Date; limit: number };

/**
 * Where a page of candidates ended: the next page starts after it. `createdAt` is PostgreSQL's own
 * text for the timestamp: a Date would drop its microseconds, and the page would start again at
 * its own last row. Its JSON text, ISO 8601 with a numeric offset: plain `::text` follows the
 * session's DateStyle, which may name the zone by an abbreviation that reads back as another zone
 * (IST, India's, read as Israel's), and the next page would skip hours of rows.
 */
export type ReplayPosition = { createdAt: string; trackingId: string };

export type ReplayCandidates = {
  messages: NotificationMessage[];
  readAt: Date;
  /** The last candidate's position; absent when the page is empty. */
  last?: ReplayPosition;
};

/**
 * The oldest notifications in the range (by creation), after `after` if given, whose replay is not
 * pending already (`replayPending`). Served by the (status, created_at) index.
 */
export async function listReplayCandidates(
  db: Queryable,
  range: ReplayRange,
  pendingForMs: number,
  after?: ReplayPosition,
): Promise<ReplayCandidates> {
  const { rows } = await db.query<{
    request: NotificationMessage;
    read_at: Date;
    created_at: string;
    tracking_id: string;
  }>(
    // ORDER BY names the table's columns: a bare `created_at` would be the text column of the
    // select list, which no index serves (every candidate in the range read and sorted per page)
    // and whose order, under a collation other than C, is not the timestamps'.
    `SELECT n.request, to_json(n.created_at) #>> '{}' AS created_at, n.tracking_id, statement_timestamp() AS read_at
       FROM notifications.notifications n
      WHERE n.status = $1 AND n.created_at >= $2 AND n.created_at < $3
        AND NOT (${replayPending('$7')})
        AND n.personal_data_erased_at IS NULL
        AND ($5::timestamptz IS NULL OR (n.created_at, n.tracking_id) > ($5, $6::uuid))
      ORDER BY n.created_at, n.tracking_id
      LIMIT $4`,
    [
      range.status,
      range.from,
      range.to,
      range.limit,
      after?.createdAt ?? null,
      after?.trackingId ?? null,
      pendingForMs,
    ],
  );
  const lastRow = rows.at(-1);
  return {
    messages: rows.map((row) => row.request),
    readAt: rows[0]?.read_at ?? new Date(),
    ...(lastRow ? { last: { createdAt: lastRow.created_at, trackingId: lastRow.tracking_id } } : {}),
  };
}

/** A deadlock chooses one statement to fail; run ours again, up to this many times in all. */
const MARK_ATTEMPTS = 5;

// The rows are locked in key order, as the claim locks its batch, whatever plan PostgreSQL picks:
// a plain UPDATE takes them in its scan's order, physical on a small table, and could hold one row
// of the consumer's claim while waiting for another that the claim holds. The rows to update are
// found by primary key from the ids again, never by joining the whole table to the locked ones.
const MARK_REPLAY_QUEUED = `
UPDATE notifications.notifications n SET replay_queued_at = $2
FROM (
  SELECT tracking_id FROM notifications.notifications
  WHERE tracking_id = ANY($1::uuid[])
  ORDER BY tracking_id
  FOR UPDATE
) locked
WHERE n.tracking_id = ANY($1::uuid[]) AND n.tracking_id = locked.tracking_id`;

/**
 * Records that the broker confirmed a replay message for each of these notifications, as of `readAt`,
 * the time their rows were read before publishing: a replay counts as pending while it is newer than
 * the row's last change, and a replayed message may be claimed and fail again before this mark is
 * written. Stamped with the time of the mark, that row would look pending for good, and every later
 * bulk replay would leave it out; stamped with the read, its claim is the newer. The replayed
 * messages are already being claimed and settled meanwhile, by batch statements that lock the same
 * rows: should PostgreSQL still break a deadlock by failing this statement (the settlement's lock
 * order follows its plan), the statement changed nothing, and runs again.
 */
export async function markReplayQueued(db: Queryable, trackingIds: readonly string[], readAt: Date): Promise<void> {
  if (trackingIds.length === 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query(MARK_REPLAY_QUEUED, [trackingIds, readAt]);
      return;
    } catch (error) {
      if (attempt >= MARK_ATTEMPTS || classifyDatabaseError(error) !== 'conflict') throw error;
    }
  }
}
