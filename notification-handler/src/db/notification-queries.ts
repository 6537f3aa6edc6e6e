import type { Queryable } from './notification-repository.js';

export const STATUSES = ['in_progress', 'retry_scheduled', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof STATUSES)[number];

export type AttemptView = {
  number: number;
  startedAt: string;
  finishedAt: string;
  outcome: string;
  httpStatus: number | null;
  errorCode: string | null;
  message: string | null;
  providerMessageId: string | null;
  /** The provider the attempt went to. */
  provider: string | null;
};

export type NotificationView = {
  trackingId: string;
  operation: string;
  channel: string;
  status: NotificationStatus;
  /** Both null once the personal data was erased (PERSONAL_DATA_RETENTION_DAYS). */
  recipient: { email: string | null; name: string | null };
  attemptCount: number;
  lastError: string | null;
  providerMessageId: string | null;
  occurredAt: string;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  /** When the delayed retry of a retry_scheduled notification is due. */
  nextAttemptAt: string | null;
  /** When a replay was last queued for it. */
  replayQueuedAt: string | null;
  /** The W3C trace id its message's `traceparent` header carried; null when it had none. */
  traceId: string | null;
  /** When its recipient and stored request were erased; null while it holds them. */
  personalDataErasedAt: string | null;
};

const VIEW_COLUMNS = `
  tracking_id AS "trackingId", operation, channel, status,
  json_build_object('email', recipient_email, 'name', recipient_name) AS recipient,
  attempt_count AS "attemptCount", last_error AS "lastError", provider_message_id AS "providerMessageId",
  to_json(occurred_at) #>> '{}' AS "occurredAt", to_json(created_at) #>> '{}' AS "createdAt",
  to_json(updated_at) #>> '{}' AS "updatedAt", to_json(sent_at) #>> '{}' AS "sentAt",
  to_json(next_attempt_at) #>> '{}' AS "nextAttemptAt", to_json(replay_queued_at) #>> '{}' AS "replayQueuedAt",
  trace_id AS "traceId",
  to_json(personal_data_erased_at) #>> '{}' AS "personalDataErasedAt"`;

export async function findNotification(
  db: Queryable,
  trackingId: string,
): Promise<(NotificationView & { attempts: AttemptView[] }) | undefined> {
  const { rows } = await db.query<NotificationView & { attempts: AttemptView[] }>(
    `SELECT ${VIEW_COLUMNS},
       COALESCE((
         SELECT json_agg(json_build_object(
           'number', attempt_number, 'startedAt', started_at, 'finishedAt', finished_at, 'outcome', outcome,
           'httpStatus', http_status, 'errorCode', error_code, 'message', message,
           'providerMessageId', provider_message_id, 'provider', provider) ORDER BY attempt_number)
         FROM notifications.notification_attempts a WHERE a.tracking_id = n.tracking_id
       ), '[]') AS attempts
     FROM notifications.notifications n WHERE tracking_id = $1`,
    [trackingId],
  );
  return rows[0];
}

export type Page = { items: NotificationView[]; nextCursor: string | null };

export type ListFilters = {
  status?: NotificationStatus | undefined;
  operation?: string | undefined;
  trackingId?: string | undefined;
  /** Matched whole and case-insensitively. */
  email?: string | undefined;
};

/**
 * Keyset pagination, newest first. The cursor carries the last row's exact timestamp (as
 * PostgreSQL prints it, microseconds included) and id, so pages never skip or repeat a row.
 */
export async function listNotifications(
  db: Queryable,
  { limit, cursor, ...filters }: ListFilters & { limit: number; cursor?: string | undefined },
): Promise<Page> {
  const { rows } = await db
    .query<NotificationView & { cursorAt: string }>(
      listQuery(filters, cursor ? decodeCursor(cursor) : undefined, limit + 1),
    )
    .catch((error: unknown) => {
      // A cursor shaped like ours whose time does not exist (a 30 February, a zone of +16): PostgreSQL refuses it.
      if (cursor && isBadTimestamp(error)) throw new InvalidCursorError('cursor is not one this API gave out');
      throw error;
    });
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursorAt: _, ...view }) => view),
    nextCursor: hasMore && last ? encodeCursor(last.cursorAt, last.trackingId) : null,
  };
}

/**
 * Only the filters given become conditions, so that the planner sees which index serves them:
 * the primary key (tracking id), or one of (status | operation | lower(email), created_at DESC,
 * tracking_id DESC), which also give the order without a sort.
 */
export function listQuery(
  { status, operation, trackingId, email }: ListFilters,
  after: { createdAt: string; trackingId: string } | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  if (status) where.push(`status = ${bind(status)}`);
  if (operation) where.push(`operation = ${bind(operation)}`);
  if (trackingId) where.push(`tracking_id = ${bind(trackingId)}::uuid`);
  if (email) where.push(`lower(recipient_email) = lower(${bind(email)})`);
  if (after)
    where.push(`(created_at, tracking_id) < (${bind(after.createdAt)}::timestamptz, ${bind(after.trackingId)}::uuid)`);
  // The cursor's time is PostgreSQL's JSON text of it, ISO 8601 with a numeric offset whatever the
  // session's DateStyle: `created_at::text` follows DateStyle, and under SQL, German or Postgres it
  // names the zone by an abbreviation (`05/12/2026 08:20:56.136959 IST`), which the cursor check
  // refuses, and which PostgreSQL would read back by its own table of abbreviations (IST as
  // Israel's +02, not India's +05:30).
  return {
    text: `SELECT ${VIEW_COLUMNS}, to_json(created_at) #>> '{}' AS "cursorAt"
     FROM notifications.notifications
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, tracking_id DESC
     LIMIT ${bind(limit)}`,
    values,
  };
}

export class InvalidCursorError extends Error {}

/**
 * invalid_datetime_format, datetime_field_overflow, invalid_time_zone_displacement_value (an offset
 * past PostgreSQL's ±15:59, such as +16).
 */
function isBadTimestamp(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '22007' || code === '22008' || code === '22009';
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeCursor(createdAt: string, trackingId: string): string {
  return Buffer.from(JSON.stringify([createdAt, trackingId])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; trackingId: string } {
  try {
    const [createdAt, trackingId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (TIMESTAMP.test(createdAt) && UUID.test(trackingId)) return { createdAt, trackingId };
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursorError('cursor is not one this API gave out');
}
