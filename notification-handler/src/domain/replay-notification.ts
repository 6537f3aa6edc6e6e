import { type NotificationMessage, NotificationMessageSchema } from '@notify/shared';
import type { PublishOutcome } from '@notify/shared/platform';
import type { Queryable } from '../db/notification-repository.js';
import {
  findReplayCandidate,
  listReplayCandidates,
  markReplayQueued,
  type ReplayPosition,
  type ReplayRange,
} from '../db/replay-queries.js';

export type ReplayDeps = {
  db: Queryable;
  /** Publishes the stored message to the handler's own queue, marked as a replay, with confirms. */
  requeue: (message: NotificationMessage, requestedAt: Date) => Promise<PublishOutcome>;
  /** How long a replay queued and not yet taken keeps others off: the send deadline. */
  pendingForMs: number;
  /**
   * PERSONAL_DATA_RETENTION_DAYS: a notification created longer ago has no stored request left, or
   * its message would be refused as too old. A bulk replay starts its range no further back.
   */
  personalDataRetentionMs: number;
};

export type ReplayOutcome =
  | { kind: 'queued' }
  | { kind: 'not_found' }
  | { kind: 'not_replayable'; status: string }
  /** Queued again already and not taken yet: one more would be a second copy of the same message. */
  | { kind: 'replay_pending'; replayQueuedAt: Date }
  | { kind: 'erased'; erasedAt: Date }
  /** Its stored request no longer passes the message schema (which may have grown stricter). */
  | { kind: 'invalid'; reason: string };

export class ReplayNotQueuedError extends Error {}

/**
 * Queues a failed (or waiting) notification again from its stored request. The row is not touched
 * before the broker confirmed the message, so a crash at any step leaves it replayable; the message
 * itself reopens the row when the consumer claims it (a replay may take a failed row).
 */
export async function replayNotification(trackingId: string, deps: ReplayDeps): Promise<ReplayOutcome> {
  const candidate = await findReplayCandidate(deps.db, trackingId, deps.pendingForMs);
  if (candidate.kind !== 'replayable') return candidate;
  const problem = schemaProblem(candidate.request);
  if (problem) return { kind: 'invalid', reason: problem };
  const result = await deps.requeue(candidate.request, new Date());
  if (result.status !== 'published') throw new ReplayNotQueuedError(`replay not queued: ${result.reason}`);
  await markReplayQueued(deps.db, [trackingId], candidate.readAt);
  return { kind: 'queued' };
}

export type BulkReplayOutcome = {
  queued: number;
  /** Not queued: the broker did not confirm them, or their stored request fails the schema (`invalid`). */
  notQueued: number;
  invalid: number;
  more: boolean;
};

/**
 * Rows one bulk replay reads at most. Stored requests that today's schema refuses are skipped, and
 * the replay reads on past them to fill its limit, so that they never hold up the rest of the
 * range; past this many rows it stops, and says there is more.
 */
const MOST_ROWS_READ = 10_000;

/**
 * Replays up to `limit` notifications of a status and creation-time range (from no further back
 * than the personal data retention), oldest first, skipping those whose replay is already queued:
 * call again while `more` says so. Those the broker does not confirm count against the limit and
 * come first again next time.
 */
export async function replayRange(asked: ReplayRange, deps: ReplayDeps): Promise<BulkReplayOutcome> {
  // Failures older than the retention stay, erased, until their purge: a range reaching back past
  // it would read every one of them again on each page, before any it could replay.
  const from = new Date(Math.max(asked.from.getTime(), Date.now() - deps.personalDataRetentionMs));
  const range = { ...asked, from };
  let queued = 0;
  let refused = 0;
  let invalid = 0;
  let read = 0;
  let after: ReplayPosition | undefined;
  const outcome = (more: boolean) => ({ queued, notQueued: refused + invalid, invalid, more });
  for (;;) {
    const wanted = range.limit - queued - refused;
    const page = await listReplayCandidates(deps.db, { ...range, limit: wanted }, deps.pendingForMs, after);
    read += page.messages.length;
    const messages = page.messages.filter((message) => schemaProblem(message) === undefined);
    invalid += page.messages.length - messages.length;
    const requestedAt = new Date();
    const results = await Promise.all(messages.map((message) => deps.requeue(message, requestedAt)));
    const confirmed = messages.filter((_, index) => results[index]?.status === 'published').map((m) => m.trackingId);
    // Each page with its own read time: a row changed after an earlier page was read is still newer.
    await markReplayQueued(deps.db, confirmed, page.readAt);
    queued += confirmed.length;
    refused += messages.length - confirmed.length;
    if (page.messages.length < wanted || !page.last) return outcome(false);
    if (queued + refused >= range.limit || read >= MOST_ROWS_READ) return outcome(true);
    after = page.last;
  }
}

function schemaProblem(message: NotificationMessage): string | undefined {
  const parsed = NotificationMessageSchema.safeParse(message);
  if (parsed.success) return undefined;
  const fields = parsed.error.issues.map((issue) => issue.path.join('.') || 'message');
  return `its stored request no longer passes the message schema (${[...new Set(fields)].join(', ')})`;
}
