import { randomBytes } from 'node:crypto';

/**
 * Months of past traffic, written straight into the services' tables with generate_series: what a
 * long-running deployment carries while it takes new work. Row shapes follow the services' own
 * (sizes included: a ~500-byte stored request, a ~480-byte outbox message).
 */
export type HistorySize = {
  /**
   * Final notifications (99 % sent, 1 % failed), one attempt each, created over the last 89 days;
   * those older than 30 days have had their personal data erased, as the handler's maintenance does.
   */
  notifications?: number;
  /** Published outbox rows, created over the last 23 hours, on an exchange no relay claims. */
  outbox?: number;
  /** Idempotency keys with their stored response, created over the last 23 hours. */
  idempotencyKeys?: number;
  /** Carts with one line each; every other one checked out into an order. */
  carts?: number;
};

/** Where preloaded outbox rows point: no relay of any system claims them. */
export const HISTORY_EXCHANGE = 'history.preloaded';

type Queryable = { query: (text: string, values?: unknown[]) => Promise<unknown> };

/** One statement per chunk: no single transaction holds a million rows' worth of locks and WAL. */
const CHUNK = 100_000;

const DAY_SECONDS = 86_400;

export async function preloadHistory(db: Queryable, size: HistorySize): Promise<void> {
  const run = randomBytes(4).toString('hex');
  await inChunks(size.notifications, (from, to, total) =>
    db.query(NOTIFICATIONS, [from, to, (89 * DAY_SECONDS) / total]),
  );
  await inChunks(size.outbox, (from, to, total) =>
    db.query(OUTBOX, [from, to, (23 * 3_600) / total, HISTORY_EXCHANGE]),
  );
  await inChunks(size.idempotencyKeys, (from, to, total) =>
    db.query(IDEMPOTENCY_KEYS, [from, to, (23 * 3_600) / total, `history-${run}`]),
  );
  await inChunks(size.carts, (from, to, total) => db.query(CARTS, [from, to, (89 * DAY_SECONDS) / total]));
}

async function inChunks(
  total: number | undefined,
  write: (from: number, to: number, total: number) => Promise<unknown>,
): Promise<void> {
  if (!total) return;
  for (let from = 1; from <= total; from += CHUNK) await write(from, Math.min(total, from + CHUNK - 1), total);
}

// $3: seconds between two rows, so that the history spans its period evenly, oldest last.
const NOTIFICATIONS = `
WITH inserted AS (
  INSERT INTO notifications.notifications
    (tracking_id, operation, recipient_email, recipient_name, request, personal_data_erased_at, status,
     attempt_count, last_error, provider_message_id, lease_expires_at, occurred_at, created_at, updated_at, sent_at)
  SELECT gen_random_uuid(), 'checkout.completed',
         CASE WHEN NOT erased THEN 'history-' || g || '@example.com' END,
         CASE WHEN NOT erased THEN 'History Customer ' || g END,
         CASE WHEN NOT erased THEN
           jsonb_build_object('schemaVersion', 1, 'operation', 'checkout.completed', 'padding', repeat('x', 420)) END,
         CASE WHEN erased THEN t + interval '30 days' END,
         CASE WHEN g % 100 = 0 THEN 'failed' ELSE 'sent' END, 1,
         CASE WHEN g % 100 = 0 THEN 'HTTP 400: invalid recipient' END,
         CASE WHEN g % 100 = 0 THEN NULL ELSE (1152921504606846976 + g)::text END,
         t, t, t, t + interval '40 ms', CASE WHEN g % 100 = 0 THEN NULL ELSE t + interval '30 ms' END
  FROM (SELECT g, t, t < now() - interval '30 days' AS erased
        FROM (SELECT g, now() - make_interval(secs => g * $3::float8) AS t
              FROM generate_series($1::int, $2::int) g) times) s
  RETURNING tracking_id, status, created_at, provider_message_id
)
INSERT INTO notifications.notification_attempts
  (tracking_id, attempt_number, started_at, finished_at, outcome, http_status, message, provider_message_id)
SELECT tracking_id, 1, created_at, created_at + interval '30 ms',
       CASE WHEN status = 'sent' THEN 'sent' ELSE 'permanent_error' END,
       CASE WHEN status = 'sent' THEN 200 ELSE 400 END,
       CASE WHEN status = 'sent' THEN NULL ELSE 'invalid recipient' END, provider_message_id
FROM inserted`;

const OUTBOX = `
INSERT INTO ticketing.outbox
  (tracking_id, exchange, routing_key, content, properties, created_at, available_at, attempts, published_at)
SELECT gen_random_uuid(), $4, 'checkout.completed', convert_to(repeat('x', 480), 'UTF8'),
       '{"contentType": "application/json", "deliveryMode": 2}'::jsonb, t, t, 1, t + interval '50 ms'
FROM (SELECT now() - make_interval(secs => g * $3::float8) AS t FROM generate_series($1::int, $2::int) g) s`;

const IDEMPOTENCY_KEYS = `
INSERT INTO ticketing.idempotency_keys (key, fingerprint, response_status, response_body, created_at)
SELECT $4 || '-' || g, md5(g::text), 201, jsonb_build_object('cartId', gen_random_uuid(), 'status', 'open'),
       now() - make_interval(secs => g * $3::float8)
FROM generate_series($1::int, $2::int) g`;

const CARTS = `
WITH carts AS (
  INSERT INTO ticketing.carts (id, customer_email, customer_name, status, created_at)
  SELECT gen_random_uuid(), 'history-' || g || '@example.com', 'History Customer ' || g,
         CASE WHEN g % 2 = 0 THEN 'checked_out' ELSE 'open' END, now() - make_interval(secs => g * $3::float8)
  FROM generate_series($1::int, $2::int) g
  RETURNING id, status, created_at
),
items AS (
  INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor, added_at)
  SELECT id, 'a1000000-0000-4000-8000-000000000001', 2, 4500, created_at FROM carts
)
INSERT INTO ticketing.orders (id, cart_id, total_minor, currency, created_at)
SELECT gen_random_uuid(), id, 9000, 'EUR', created_at FROM carts WHERE status = 'checked_out'`;
