import type { EncodedNotification, PublishProperties } from '@notify/shared';
import type { Db } from './queryable.js';

export type OutboxRow = {
  id: string;
  trackingId: string;
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: PublishProperties;
  attempts: number;
};

/** Every instance's relay LISTENs here; the payload is the exchange that has new rows. */
export const OUTBOX_CHANNEL = 'ticketing_outbox';

/** A notification to write to the outbox, encoded as the relay will publish it. */
export type OutboxInsert = { exchange: string; encoded: EncodedNotification; traceId?: string };

/**
 * The closing part of a command's single statement: writes the outbox row if the CTE `after`
 * produced a row, and answers one row if it did. Its parameters start at `$first`, in the order of
 * `outboxInsertValues`. The message is stored as encoded now: the relay publishes these exact
 * bytes and properties (the traceparent header included); `trace_id` is there for people looking
 * for a trace. No NOTIFY here: a transaction that notifies takes a lock that is one for the whole
 * server at commit and holds it through its WAL flush, so every such commit would wait for the
 * last one's (pgbench here, 10 clients: 3,700-3,900 commits/s with NOTIFY, 10,000-12,000
 * without). The instance announces its commits after the fact instead (`outbox-listener.ts`).
 */
export function outboxInsertAfter(after: string, first: number): string {
  return `${outboxRowAfter(after, first)}
    SELECT exchange FROM outbox_row`;
}

/** The CTE `outbox_row` of outboxInsertAfter alone, for a statement that answers something else. */
export function outboxRowAfter(after: string, first: number): string {
  const p = (offset: number) => `$${first + offset}`;
  return `outbox_row AS (
      INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, trace_id)
      SELECT ${p(0)}::uuid, ${p(1)}::text, ${p(2)}::text, ${p(3)}::bytea, ${p(4)}::jsonb, ${p(5)}::text FROM ${after}
      RETURNING exchange)`;
}

export function outboxInsertValues({ exchange, encoded, traceId }: OutboxInsert): unknown[] {
  return [
    encoded.properties.messageId,
    exchange,
    encoded.routingKey,
    encoded.content,
    JSON.stringify(encoded.properties),
    traceId ?? null,
  ];
}

/**
 * Claims up to `limit` due rows for this exchange and marks them published, in the caller's
 * transaction: one round trip where a claim and a separate mark took two. The mark is seen by
 * nobody until that transaction commits, and the relay commits only once the broker has confirmed
 * the batch; a row it could not publish is handed back with `releaseUnpublished` before the
 * commit, and if the process dies meanwhile the rollback hands back every row. Due rows are taken
 * in the order they became due (a new row is due at once, a refused one after its backoff): the
 * index outbox_due (exchange, available_at, id) WHERE published_at IS NULL holds them in that
 * order, so the claim reads the rows it takes and nothing else, and the update reaches them by
 * primary key. SKIP LOCKED lets another relay take the next rows instead of waiting.
 */
export async function claimDueRows(db: Db, exchange: string, limit: number): Promise<OutboxRow[]> {
  const result = await db.query<OutboxRow & { availableAt: Date }>({
    name: 'ticketing.outbox-claim',
    text: `WITH due AS (
        SELECT id FROM ticketing.outbox
         WHERE published_at IS NULL AND exchange = $1 AND available_at <= now()
         ORDER BY available_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
      UPDATE ticketing.outbox o SET published_at = now()
       WHERE o.id = ANY(ARRAY(SELECT id FROM due))
      RETURNING o.id, o.tracking_id AS "trackingId", o.exchange, o.routing_key AS "routingKey", o.content,
                o.properties, o.attempts, o.available_at AS "availableAt"`,
    values: [exchange, limit],
  });
  // RETURNING keeps no order: publish in the order the rows became due.
  return result.rows
    .sort((a, b) => a.availableAt.getTime() - b.availableAt.getTime() || compareIds(a.id, b.id))
    .map(({ availableAt: _dueAt, ...row }) => row);
}

/** bigint ids arrive as strings: a shorter one is smaller. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** A claimed row the broker did not confirm. */
export type UnpublishedRow = {
  id: string;
  /** Why, when a publish was attempted: it counts as an attempt. Absent: never sent (the batch stopped first). */
  error?: string;
  /** The broker answered no (nack, unroutable): wait before the next try instead of looping on it. */
  refused?: boolean;
};

/**
 * Hands claimed rows back as pending, in the claiming transaction. An attempted one counts an
 * attempt and keeps its error; a refused one backs off 1 s, 2 s, 4 s... up to `maxDelayMs`;
 * others are due again at once.
 */
export async function releaseUnpublished(db: Db, rows: UnpublishedRow[], maxDelayMs: number): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE ticketing.outbox o
        SET published_at = NULL,
            attempts = o.attempts + CASE WHEN f.error IS NULL THEN 0 ELSE 1 END,
            last_error = coalesce(f.error, o.last_error),
            available_at = CASE WHEN f.refused
              THEN now() + make_interval(secs => least(power(2, least(o.attempts, 30)), $4::float8 / 1000))
              ELSE o.available_at END
       FROM unnest($1::bigint[], $2::text[], $3::boolean[]) AS f (id, error, refused)
      -- The rows are found by primary key from the ids, never by joining the whole table to the input.
      WHERE o.id = ANY($1::bigint[]) AND o.id = f.id`,
    [rows.map((r) => r.id), rows.map((r) => r.error ?? null), rows.map((r) => r.refused ?? false), maxDelayMs],
  );
}

export type OutboxBacklog = {
  /** Pending rows, counted up to the cap given: at the cap, read it as "at least". */
  pending: number;
  /** Age of the oldest pending row; 0 when none is pending. */
  oldestPendingAgeSeconds: number;
};

/**
 * Every row published since the last vacuum (a minute of traffic) keeps its entry in the partial
 * indexes of pending rows, dead. A plain index scan marks each dead entry it meets, so that later
 * walks skip the row behind it; a bitmap scan marks none and reads every such row again each time.
 * The relay's claim walks outbox_due from the start of the exchange at every batch, so nearly every
 * dead entry there is marked already: the count walks that index in its order (ORDER BY with LIMIT:
 * a plain index scan) and reads from the table the pending rows alone. The oldest pending row is
 * then the smallest id counted, read again by primary key. At the cap the rows counted may miss it,
 * and it is the first entry of outbox_pending, whose dead entries no other walk marks: affordable in
 * a backlog that large, when little gets published. The dead entries' index pages are still read
 * (one per ~140 rows published since the vacuum), as by every claim.
 */
export async function readOutboxBacklog(db: Db, exchange: string, cap: number): Promise<OutboxBacklog> {
  const result = await db.query<{ pending: number; oldestAge: number | null }>(
    `WITH counted AS (
       SELECT count(*)::int AS pending, min(id) AS first_id
         FROM (SELECT id FROM ticketing.outbox
                WHERE published_at IS NULL AND exchange = $1
                ORDER BY available_at, id
                LIMIT $2) AS due_order)
     SELECT counted.pending,
            (SELECT extract(epoch FROM now() - o.created_at)::float8 FROM ticketing.outbox o
              WHERE o.id = CASE WHEN counted.pending < $2 THEN counted.first_id ELSE
                             (SELECT id FROM ticketing.outbox WHERE published_at IS NULL AND exchange = $1
                               ORDER BY id LIMIT 1) END) AS "oldestAge"
       FROM counted`,
    [exchange, cap],
  );
  const row = result.rows[0];
  return { pending: row?.pending ?? 0, oldestPendingAgeSeconds: Math.max(0, row?.oldestAge ?? 0) };
}

/**
 * Deletes up to `limit` rows published more than `retentionHours` ago, oldest first, through the
 * index outbox_published, which holds published rows only: a pending row is never touched. The
 * rows are taken as an array and found again by primary key: an `IN (subquery)` may be planned as a
 * hash join over the whole outbox, which only the sessions' enable_seqscan = off prevents.
 */
export async function purgePublished(db: Db, retentionHours: number, limit: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM ticketing.outbox
      WHERE id = ANY(ARRAY(
        SELECT id FROM ticketing.outbox
         WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1::int)
         ORDER BY published_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED))`,
    [retentionHours, limit],
  );
  return result.rowCount ?? 0;
}
