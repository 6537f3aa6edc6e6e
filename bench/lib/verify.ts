import type { SandboxClient } from '@notify/test-support/system/index.js';
import type pg from 'pg';
import { ALL_ROWS, type RunRows } from './pipeline.js';

export type Verification = {
  accepted: number;
  /** Accepted ids whose row is in status sent (tracking_id is the key: one row at most). */
  sentOnce: number;
  /** Accepted ids with no sent row (missing, in_progress or failed). */
  notSent: number;
  /** Notification rows whose id the API never returned. */
  unexpectedRows: number;
  /** Outbox rows whose id the API never returned (an answer lost after the commit). */
  outboxNotAnswered: number;
  /** Provider calls recorded beyond one per notification (retries, redeliveries). */
  extraAttempts: number;
  /** At the sandbox: accepted ids received exactly once, not at all, more than once; and ids never accepted. */
  providerOnce: number;
  providerMissing: number;
  providerDuplicated: number;
  providerUnexpected: number;
  /** Messages left on the main queue and the dead-letter queue once the services stopped. */
  queues: { main: number; deadLetter: number };
  /** Exit of each service on SIGTERM (0 expected). */
  exits: Record<string, number | string>;
  ok: boolean;
  problems: string[];
};

/**
 * No notification lost or duplicated: every id the API accepted has its row in status sent, the
 * sandbox received exactly one email with that CustomID and none with any other, nothing is left
 * on a queue, and both services stopped cleanly.
 */
export async function verifyDelivery(
  db: pg.Pool,
  sandbox: SandboxClient,
  acceptedIds: string[],
  { queues, exits }: Pick<Verification, 'queues' | 'exits'>,
  run: RunRows = ALL_ROWS,
): Promise<Verification> {
  const accepted = new Set(acceptedIds);
  const problems: string[] = [];
  if (accepted.size !== acceptedIds.length)
    problems.push(`the API returned ${acceptedIds.length - accepted.size} ids twice`);

  const rows = await db.query<{ tracking_id: string; status: string; attempt_count: number }>(
    'SELECT tracking_id, status, attempt_count FROM notifications.notifications WHERE created_at >= $1',
    [run.since],
  );
  let sentOnce = 0;
  let unexpectedRows = 0;
  let extraAttempts = 0;
  for (const row of rows.rows) {
    if (!accepted.has(row.tracking_id)) unexpectedRows += 1;
    else if (row.status === 'sent') sentOnce += 1;
    extraAttempts += Math.max(0, row.attempt_count - 1);
  }
  const outbox = await db.query<{ tracking_id: string }>(
    'SELECT tracking_id FROM ticketing.outbox WHERE id > $1::bigint',
    [run.outboxAfterId],
  );
  const outboxNotAnswered = outbox.rows.filter((row) => !accepted.has(row.tracking_id)).length;

  const provider = countAtProvider(await sandbox.countByCustomId(), accepted);
  const result = {
    accepted: accepted.size,
    sentOnce,
    notSent: accepted.size - sentOnce,
    unexpectedRows,
    outboxNotAnswered,
    extraAttempts,
    ...provider,
    queues,
    exits,
  };
  if (result.notSent > 0) problems.push(`${result.notSent} accepted notifications not sent`);
  if (unexpectedRows > 0) problems.push(`${unexpectedRows} notification rows the API never answered`);
  if (provider.providerMissing > 0)
    problems.push(`${provider.providerMissing} accepted ids never reached the provider`);
  if (provider.providerDuplicated > 0)
    problems.push(`${provider.providerDuplicated} ids reached the provider twice or more`);
  if (provider.providerUnexpected > 0)
    problems.push(`${provider.providerUnexpected} emails at the provider were never accepted`);
  if (queues.main > 0) problems.push(`${queues.main} messages left on the main queue`);
  if (queues.deadLetter > 0) problems.push(`${queues.deadLetter} messages dead-lettered`);
  for (const [name, exit] of Object.entries(exits))
    if (exit !== 0) problems.push(`${name} exited with ${exit} on SIGTERM`);
  return { ...result, ok: problems.length === 0, problems };
}

function countAtProvider(seen: Map<string, number>, accepted: Set<string>) {
  let providerOnce = 0;
  let providerMissing = 0;
  let providerDuplicated = 0;
  for (const id of accepted) {
    const times = seen.get(id) ?? 0;
    if (times === 1) providerOnce += 1;
    else if (times === 0) providerMissing += 1;
    else providerDuplicated += 1;
  }
  let providerUnexpected = 0;
  for (const [id, times] of seen) if (!accepted.has(id)) providerUnexpected += times;
  return { providerOnce, providerMissing, providerDuplicated, providerUnexpected };
}

/**
 * The relay bench's check: its queue must hold each pending row once. More than the rows is a
 * row published twice, which "at least" would let through.
 */
export function backlogDeliveryProblem(delivered: number, rows: number): string | undefined {
  if (delivered < rows) return `${delivered} of ${rows} rows reached the queue`;
  if (delivered > rows)
    return `${delivered} messages reached the queue for ${rows} rows: ${delivered - rows} published twice`;
  return undefined;
}
