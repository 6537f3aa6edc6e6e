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
  recipient: { email: string; name: string };
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
};

const VIEW_COLUMNS = `
  tracking_id AS "trackingId", operation, channel, status,
  json_build_object('email', recipient_email, 'name', recipient_name) AS recipient,
  attempt_count AS "attemptCount", last_error AS "lastError", provider_message_id AS "providerMessageId",
  to_json(occurred_at) #>> '{}' AS "occurredAt", to_json(created_at) #>> '{}' AS "createdAt",
  to_json(updated_at) #>> '{}' AS "updatedAt", to_json(sent_at) #>> '{}' AS "sentAt",
  to_json(next_attempt_at) #>> '{}' AS "nextAttemptAt", to_json(replay_queued_at) #>> '{}' AS "replayQueuedAt",
  trace_id AS "traceId"`;

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

/**
 * Keyset pagination, newest first. The cursor carries the last row's exact timestamp (as
 * PostgreSQL prints it, microseconds included) and id, so pages never skip or repeat a row.
 */
export async function listNotifications(
  db: Queryable,
  { status, limit, cursor }: { status?: NotificationStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<Page> {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const { rows } = await db.query<NotificationView & { cursorAt: string }>(
    `SELECT ${VIEW_COLUMNS}, created_at::text AS "cursorAt"
     FROM notifications.notifications
     WHERE ($1::text IS NULL OR status = $1)
       AND ($2::timestamptz IS NULL OR (created_at, tracking_id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, tracking_id DESC
     LIMIT $4`,
    [status ?? null, after?.createdAt ?? null, after?.trackingId ?? null, limit + 1],
  );
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursorAt: _, ...view }) => view),
    nextCursor: hasMore && last ? encodeCursor(last.cursorAt, last.trackingId) : null,
  };
}

export class InvalidCursorError extends Error {}

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
