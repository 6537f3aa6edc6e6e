import type pg from 'pg';
import { type LatencySummary, ratePerSecond, summarize } from './stats.js';

export type Progress = { sent: number; failed: number; total: number; outbox: number; published: number };

/**
 * The rows of this run: notifications created since `since`, outbox rows after `outboxAfterId`.
 * A preloaded history (--history) sits before both, and the queries below reach the run's rows
 * through the created_at index and the outbox's primary key without reading the history.
 */
export type RunRows = { since: Date; outboxAfterId: string };

/** Every row of the tables: no history was preloaded. */
export const ALL_ROWS: RunRows = { since: new Date(0), outboxAfterId: '0' };

/** Marks where the run's rows begin: call after any preload, before the load starts. */
export async function markRunRows(db: pg.Pool): Promise<RunRows> {
  const { rows } = await db.query<{ now: Date; max_id: string | null }>(
    'SELECT clock_timestamp() AS now, (SELECT max(id) FROM ticketing.outbox)::text AS max_id',
  );
  return { since: rows[0]?.now ?? new Date(0), outboxAfterId: rows[0]?.max_id ?? '0' };
}

/**
 * One pass over each table's run rows, not one per figure: the bench polls this four times a
 * second on the cores it measures, and each pass reads every row of the run (their dead versions
 * too, with autovacuum off). `outboxDone` skips the outbox once every row the run expects is
 * published: a drain's outbox is done before its handler starts.
 */
export async function readProgress(
  db: pg.Pool,
  run: RunRows = ALL_ROWS,
  outboxDone?: Pick<Progress, 'outbox' | 'published'>,
): Promise<Progress> {
  const notifications = `
    SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*)::int AS total
    FROM notifications.notifications WHERE created_at >= $1`;
  if (outboxDone) {
    const { rows } = await db.query<Omit<Progress, 'outbox' | 'published'>>(notifications, [run.since]);
    const { outbox, published } = outboxDone;
    return { ...(rows[0] as Omit<Progress, 'outbox' | 'published'>), outbox, published };
  }
  const { rows } = await db.query<Progress>(
    `SELECT n.*, o.* FROM (${notifications}) n, (
       SELECT count(*)::int AS outbox, count(*) FILTER (WHERE published_at IS NOT NULL)::int AS published
       FROM ticketing.outbox WHERE id > $2::bigint) o`,
    [run.since, run.outboxAfterId],
  );
  return rows[0] as Progress;
}

const FIRST_POLL_MS = 250;
const MIN_POLL_MS = 50;
const MAX_POLL_MS = 1_000;

/**
 * The wait before the next progress read. Each read counts every row of the run, on the cores
 * being measured (`postgresql ← bench checks`, 0.02 ms per notification of an unpaced drain at
 * four reads a second): far from the end it reads once a second, and as the end nears, at half
 * the time the pace of the last two reads leaves, down to 50 ms, so that the wait, and the CPU
 * window it closes, ends soon after the last row. `perMs` is rows done per ms between the last two
 * reads; before there were two, 250 ms.
 */
export function nextPollMs(remaining: number, perMs: number | undefined): number {
  if (perMs === undefined) return FIRST_POLL_MS;
  if (perMs <= 0) return MAX_POLL_MS;
  return Math.round(Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, remaining / perMs / 2)));
}

/** Rows done per ms between two reads. */
const paceOf = (done: number, before: number, ms: number) => (ms > 0 ? (done - before) / ms : undefined);

/**
 * Polls until `expected` notifications are settled (sent or failed), the deadline passes, or
 * nothing moved for `stallMs`. Settled-or-not is read from the handler's rows, not from logs.
 */
export async function waitForSettled(
  db: pg.Pool,
  expected: number,
  { deadline, stallMs = 60_000, run = ALL_ROWS }: { deadline: number; stallMs?: number; run?: RunRows },
): Promise<{ progress: Progress; complete: boolean; reason: string }> {
  let last = await readProgress(db, run);
  let lastReadAt = Date.now();
  let lastMoved = lastReadAt;
  let perMs: number | undefined;
  for (;;) {
    const settled = last.sent + last.failed;
    if (settled >= expected) return { progress: last, complete: true, reason: 'all settled' };
    if (Date.now() > deadline) return { progress: last, complete: false, reason: 'global deadline reached' };
    if (Date.now() - lastMoved > stallMs)
      return { progress: last, complete: false, reason: `no progress for ${stallMs} ms` };
    await new Promise((resolve) => setTimeout(resolve, nextPollMs(expected - settled, perMs)));
    const now = await readProgress(db, run, last.published >= expected ? last : undefined);
    const readAt = Date.now();
    if (now.sent + now.failed + now.published !== last.sent + last.failed + last.published) lastMoved = readAt;
    perMs = paceOf(now.sent + now.failed, settled, readAt - lastReadAt);
    [last, lastReadAt] = [now, readAt];
  }
}

/** The database's clock now: the one the run's rows are stamped by (created_at, published_at) and read against. */
export async function databaseNow(db: pg.Pool): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]?.now ?? new Date();
}

/** The run's notifications whose provider answered after `after` (sent_at). */
export async function countSentAfter(db: pg.Pool, run: RunRows, after: Date): Promise<number> {
  const { rows } = await db.query<{ sent: number }>(
    'SELECT count(*)::int AS sent FROM notifications.notifications WHERE created_at >= $1 AND sent_at > $2',
    [run.since, after],
  );
  return rows[0]?.sent ?? 0;
}

/** Polls until `expected` outbox rows are published (the relay is done), bounded like `waitForSettled`. */
export async function waitForPublished(
  db: pg.Pool,
  expected: number,
  { deadline, stallMs = 60_000, run = ALL_ROWS }: { deadline: number; stallMs?: number; run?: RunRows },
): Promise<{ progress: Progress; complete: boolean }> {
  let last = await readProgress(db, run);
  let lastReadAt = Date.now();
  let lastMoved = lastReadAt;
  let perMs: number | undefined;
  while (last.published < expected && Date.now() < deadline && Date.now() - lastMoved < stallMs) {
    await new Promise((resolve) => setTimeout(resolve, nextPollMs(expected - last.published, perMs)));
    const now = await readProgress(db, run);
    const readAt = Date.now();
    if (now.published !== last.published) lastMoved = readAt;
    perMs = paceOf(now.published, last.published, readAt - lastReadAt);
    [last, lastReadAt] = [now, readAt];
  }
  return { progress: last, complete: last.published >= expected };
}

export type StageTimings = {
  /** outbox.created_at (the API's write began) → notifications.sent_at (the provider answered). */
  acceptedToSent: LatencySummary;
  /** occurredAt (the message built) → outbox.created_at (the statement that writes the change and the row began). */
  builtToWritten: LatencySummary;
  /** outbox.created_at → outbox.published_at (the relay's batch transaction that took the row began). */
  writtenToRelayed: LatencySummary;
  /** outbox.published_at → notifications.created_at (publish, confirm, queue, delivery, claim). */
  relayedToClaimed: LatencySummary;
  /** notifications.created_at → sent_at (template, provider call). */
  claimedToSent: LatencySummary;
  /** sent_at → updated_at (the settle statement). */
  sentToSettled: LatencySummary;
  /** How many notifications each transaction downstream of the API carried, on average. */
  batches: BatchSizes;
  /** Epoch ms of the first and last event of each kind. */
  spans: {
    firstAccepted: number;
    lastAccepted: number;
    firstClaimed: number;
    lastSent: number;
    firstRelayed: number;
    lastRelayed: number;
  };
};

/**
 * Per notification, from both services' rows in the one database they share here. created_at and
 * published_at are now() of their transactions; sent_at is the handler's clock when the provider
 * answered. All clocks are this machine's.
 */
export async function readStageTimings(db: pg.Pool, run: RunRows = ALL_ROWS): Promise<StageTimings> {
  type Row = Record<'a' | 'o' | 'r' | 'c' | 's' | 'u', number>;
  // The inner join keeps only notifications that were sent: the others have no timings to give.
  const { rows } = await db.query<Row>(
    `
    SELECT extract(epoch FROM o.created_at)::float8 * 1000 AS a,
           extract(epoch FROM n.occurred_at)::float8 * 1000 AS o,
           extract(epoch FROM o.published_at)::float8 * 1000 AS r,
           extract(epoch FROM n.created_at)::float8 * 1000 AS c,
           extract(epoch FROM n.sent_at)::float8 * 1000 AS s,
           extract(epoch FROM n.updated_at)::float8 * 1000 AS u
      FROM ticketing.outbox o
      JOIN notifications.notifications n ON n.tracking_id = o.tracking_id
     WHERE n.status = 'sent' AND o.published_at IS NOT NULL AND o.id > $1::bigint`,
    [run.outboxAfterId],
  );
  const of = (pick: (row: Row) => number) => summarize(rows.map(pick));
  const span = (pick: (row: Row) => number, kind: 'min' | 'max') =>
    rows.length === 0 ? 0 : rows.map(pick).reduce((m, v) => (kind === 'min' ? Math.min(m, v) : Math.max(m, v)));
  return {
    acceptedToSent: of((row) => row.s - row.a),
    builtToWritten: of((row) => row.a - row.o),
    writtenToRelayed: of((row) => row.r - row.a),
    relayedToClaimed: of((row) => row.c - row.r),
    claimedToSent: of((row) => row.s - row.c),
    sentToSettled: of((row) => row.u - row.s),
    batches: {
      relay: meanPerDistinct(rows.map((row) => row.r)),
      claim: meanPerDistinct(rows.map((row) => row.c)),
      settlement: meanPerDistinct(rows.map((row) => row.u)),
    },
    spans: {
      firstAccepted: span((row) => row.a, 'min'),
      lastAccepted: span((row) => row.a, 'max'),
      firstRelayed: span((row) => row.r, 'min'),
      lastRelayed: span((row) => row.r, 'max'),
      firstClaimed: span((row) => row.c, 'min'),
      lastSent: span((row) => row.s, 'max'),
    },
  };
}

/**
 * Notifications per relay batch, per handler claim and per settlement. Each of those is one
 * transaction, and every row it writes gets the same now(), so the distinct published_at,
 * created_at and updated_at values count them. What each costs the relay, RabbitMQ, the handler
 * and PostgreSQL per batch rather than per row is spread over that many notifications.
 */
export type BatchSizes = {
  relay: number;
  claim: number;
  settlement: number;
  /**
   * Emails per provider call: notifications settled over the sandbox's send calls in the window
   * (missing from runs recorded before 2026-12-05). The handler gathers the emails of calls that
   * wait while its call limit is reached; each call costs the client, the connection and the
   * provider the same, whatever it carries.
   */
  providerCall?: number;
};

/** Values per distinct value, to one decimal: how many rows shared each transaction's timestamp. */
export function meanPerDistinct(values: readonly number[]): number {
  const distinct = new Set(values).size;
  return distinct === 0 ? 0 : Math.round((values.length / distinct) * 10) / 10;
}

/** Emails per provider call, to one decimal; undefined when no call was made. */
export function emailsPerCall(emails: number, calls: number): number | undefined {
  return calls === 0 ? undefined : Math.round((emails / calls) * 10) / 10;
}

export type StageRates = { ingestNotificationsPerSec: number; relayPerSec: number; handlerPerSec: number };

/** Each stage's own rate over its own span: the slowest one is what the end to end rate can reach. */
export function stageRates(notifications: number, spans: StageTimings['spans']): StageRates {
  return {
    ingestNotificationsPerSec: ratePerSecond(notifications, spans.lastAccepted - spans.firstAccepted),
    relayPerSec: ratePerSecond(notifications, spans.lastRelayed - spans.firstRelayed),
    handlerPerSec: ratePerSecond(notifications, spans.lastSent - spans.firstClaimed),
  };
}
