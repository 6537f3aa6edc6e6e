import type pg from 'pg';
import type { addCartItemWithNotification } from '../../ticketing-service/src/db/cart-item-repository.js';
import type { placeOrderWithNotification } from '../../ticketing-service/src/db/order-repository.js';
import { type OutboxInsert, outboxInsertValues } from '../../ticketing-service/src/db/outbox-repository.js';

/**
 * The checkout flow's three writes as a command batcher in the API would send them: one statement
 * for many carts, each cart's conditions (its version, its status, the catalog's price) checked on
 * its own row, `unnest` of one array per column. Written for `npm run bench:statements` only, to
 * measure what gathering would save before anyone builds it: the API's own statements are in
 * ticketing-service/src/db, and these mirror them (cart-repository's insertCart,
 * cart-item-repository's addCartItemWithNotification, order-repository's placeOrderWithNotification).
 * Each answers how many carts it wrote.
 */

/** The outbox columns of outboxInsertValues, in its order, and their types. */
const OUTBOX_COLUMNS = 'tracking_id, exchange, routing_key, content, properties, trace_id';
const OUTBOX_TYPES = ['uuid', 'text', 'text', 'bytea', 'jsonb', 'text'];

export async function insertCartsGathered(
  client: pg.Client,
  carts: ReadonlyArray<{ cartId: string; customerEmail: string; customerName: string }>,
): Promise<number> {
  const result = await client.query({
    name: 'bench.gathered-insert-carts',
    text: `INSERT INTO ticketing.carts (id, customer_email, customer_name)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
           RETURNING id AS "cartId", customer_email AS "customerEmail", customer_name AS "customerName",
                     currency, status, created_at AS "createdAt", version`,
    values: columnsOf(carts, ['cartId', 'customerEmail', 'customerName']),
  });
  return result.rowCount ?? 0;
}

/** Outbox rows alone, as many as given, in one statement: what every command writes besides its change. */
export async function insertOutboxRowsGathered(client: pg.Client, rows: readonly OutboxInsert[]): Promise<number> {
  const result = await client.query({
    name: 'bench.gathered-outbox-rows',
    text: `INSERT INTO ticketing.outbox (${OUTBOX_COLUMNS}) SELECT * FROM unnest(${outboxArrays(1)})`,
    values: outboxColumns(rows),
  });
  return result.rowCount ?? 0;
}

/** A command's line as the API's repository takes it, and its notification. */
export type GatheredLine = Parameters<typeof addCartItemWithNotification>[1] & { notification: OutboxInsert };

export async function addCartItemsGathered(
  client: pg.Client,
  lines: readonly GatheredLine[],
  maxQuantity: number,
): Promise<number> {
  const result = await client.query({
    name: 'bench.gathered-add-cart-items',
    text: `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::integer[], $3::uuid[], $4::integer[], $5::integer[], $6::text[],
                                  ${outboxArrays(7)})
               AS i(cart_id, cart_version, ticket_type_id, quantity, unit_price_minor, currency, ${OUTBOX_COLUMNS})),
           changed AS (
             UPDATE ticketing.carts c SET version = c.version + 1
               FROM input i
              WHERE c.id = i.cart_id AND c.version = i.cart_version AND c.status = 'open'
                AND EXISTS (SELECT FROM ticketing.ticket_types t
                             WHERE t.id = i.ticket_type_id AND t.price_minor = i.unit_price_minor
                               AND t.currency = i.currency AND c.currency = i.currency)
             RETURNING c.id),
           added AS (
             INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor)
             SELECT i.cart_id, i.ticket_type_id, i.quantity, i.unit_price_minor FROM input i JOIN changed ON changed.id = i.cart_id
             ON CONFLICT (cart_id, ticket_type_id) DO UPDATE
                SET quantity = cart_items.quantity + EXCLUDED.quantity, unit_price_minor = EXCLUDED.unit_price_minor
              WHERE cart_items.quantity + EXCLUDED.quantity <= $13
             RETURNING cart_id),
           ${outboxRowsAfter('added')}`,
    values: [
      ...columnsOf(lines, ['cartId', 'cartVersion', 'ticketTypeId', 'quantity', 'unitPriceMinor', 'currency']),
      ...outboxColumns(lines.map((line) => line.notification)),
      maxQuantity,
    ],
  });
  return result.rowCount ?? 0;
}

export type GatheredOrder = Parameters<typeof placeOrderWithNotification>[1] & { notification: OutboxInsert };

export async function placeOrdersGathered(client: pg.Client, orders: readonly GatheredOrder[]): Promise<number> {
  const result = await client.query({
    name: 'bench.gathered-place-orders',
    text: `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::integer[], $4::bigint[], $5::text[], ${outboxArrays(6)})
               AS i(order_id, cart_id, cart_version, total_minor, currency, ${OUTBOX_COLUMNS})),
           changed AS (
             UPDATE ticketing.carts c SET status = 'checked_out', version = c.version + 1
               FROM input i
              WHERE c.id = i.cart_id AND c.version = i.cart_version AND c.status = 'open'
             RETURNING c.id),
           placed AS (
             INSERT INTO ticketing.orders (id, cart_id, total_minor, currency)
             SELECT i.order_id, i.cart_id, i.total_minor, i.currency FROM input i JOIN changed ON changed.id = i.cart_id
             RETURNING cart_id),
           ${outboxRowsAfter('placed')}`,
    values: [
      ...columnsOf(orders, ['orderId', 'cartId', 'cartVersion', 'totalMinor', 'currency']),
      ...outboxColumns(orders.map((order) => order.notification)),
    ],
  });
  return result.rowCount ?? 0;
}

/** The outbox columns' array parameters, numbered from `$first`. */
function outboxArrays(first: number): string {
  return OUTBOX_TYPES.map((type, offset) => `$${first + offset}::${type}[]`).join(', ');
}

/** The closing CTE, as outboxInsertAfter's: an outbox row for each cart the CTE `after` wrote. */
function outboxRowsAfter(after: string): string {
  const fromInput = OUTBOX_COLUMNS.split(', ')
    .map((column) => `i.${column}`)
    .join(', ');
  return `outbox_row AS (
      INSERT INTO ticketing.outbox (${OUTBOX_COLUMNS})
      SELECT ${fromInput} FROM input i JOIN ${after} ON ${after}.cart_id = i.cart_id
      RETURNING exchange)
    SELECT exchange FROM outbox_row`;
}

/** One array per key, for `unnest`: the statement's rows, column by column. */
function columnsOf<Row>(rows: readonly Row[], keys: ReadonlyArray<keyof Row>): unknown[][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

/** One array per outbox column, in outboxInsertValues' order. */
function outboxColumns(notifications: readonly OutboxInsert[]): unknown[][] {
  const rows = notifications.map(outboxInsertValues);
  return OUTBOX_TYPES.map((_, column) => rows.map((row) => row[column]));
}
