import { type NotificationMessage, NotificationMessageSchema } from '@notify/shared';
import type { PublishOutcome } from '@notify/shared/platform';
import type { Queryable } from '../db/notification-repository.js';
import { findReplayCandidate, listReplayCandidates, markReplayQueued, type ReplayRange } from '../db/replay-queries.js';

export type ReplayDeps = {
  db: Queryable;
  /** Publishes the stored message to the handler's own queue, marked as a replay, with confirms. */
  requeue: (message: NotificationMessage, requestedAt: Date) => Promise<PublishOutcome>;
};

export type ReplayOutcome =
  | { kind: 'queued' }
  | { kind: 'not_found' }
  | { kind: 'not_replayable'; status: string }
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
  const candidate = await findReplayCandidate(deps.db, trackingId);
  if (candidate.kind === 'not_found') return candidate;
  if (candidate.kind === 'not_replayable' || candidate.kind === 'erased') return candidate;
  const problem = schemaProblem(candidate.request);
  if (problem) return { kind: 'invalid', reason: problem };
  const result = await deps.requeue(candidate.request, new Date());
  if (result.status !== 'published') throw new ReplayNotQueuedError(`replay not queued: ${result.reason}`);
  await markReplayQueued(deps.db, [trackingId], candidate.readAt);
  return { kind: 'queued' };
}

export type BulkReplayOutcome = { queued: number; notQueued: number; more: boolean };

/**
 * Replays up to `range.limit` notifications of a status and creation-time range, oldest first,
 * skipping those whose replay is already queued: call again while `more` says so.
 */
export async function replayRange(range: ReplayRange, deps: ReplayDeps): Promise<BulkReplayOutcome> {
  const candidates = await listReplayCandidates(deps.db, range);
  const { readAt } = candidates;
  // One stored request that the schema refuses today must not hold up the rest of the range.
  const messages = candidates.messages.filter((message) => schemaProblem(message) === undefined);
  const requestedAt = new Date();
  const results = await Promise.all(messages.map((message) => deps.requeue(message, requestedAt)));
  const queued = messages.filter((_, index) => results[index]?.status === 'published').map((m) => m.trackingId);
  await markReplayQueued(deps.db, queued, readAt);
  return {
    queued: queued.length,
    notQueued: candidates.messages.length - queued.length,
    more: candidates.messages.length === range.limit,
  };
}

function schemaProblem(message: NotificationMessage): string | undefined {
  const parsed = NotificationMessageSchema.safeParse(message);
  if (parsed.success) return undefined;
  const fields = parsed.error.issues.map((issue) => issue.path.join('.') || 'message');
  return `its stored request no longer passes the message schema (${[...new Set(fields)].join(', ')})`;
}
