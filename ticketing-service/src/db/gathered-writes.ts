import type { CartItemLine } from './cart-item-repository.js';
import { CART_COLUMNS, type CartRow, type FirstCartLine } from './cart-repository.js';
import type { PlacedOrder } from './order-repository.js';
import { type OutboxInsert, outboxInsertValues } from './outbox-repository.js';
import type { Db } from './queryable.js';

/**
 * The checkout flow's writes for many carts in one statement each: what the API sends when
 * concurrent commands of one kind wait for the database (domain/cart-writes.ts). Each mirrors its
 * one-cart statement in cart-repository.ts (a new cart, alone or with its first lines),
 * cart-item-repository.ts and order-repository.ts, with
 * `unnest` of one array per column: each cart's conditions (its version, its status, the catalog's
 * price) are checked on its own row, and a cart whose conditions fail is left unwritten while the
 * others are written. Each statement answers which carts it wrote. A cart must appear at most
 * once in a statement: an UPDATE joined to two input rows of one cart changes it once, and both
 * rows would then insert. The carts are also named by `id = ANY(...)`: joined to the input alone,
 * a plan made on small tables walks the whole primary key (statement-plans.test.ts).
 */

/** The outbox columns of outboxInsertValues, in its order, and their types. */
export const OUTBOX_COLUMNS = 'tracking_id, exchange, routing_key, content, properties, trace_id';
const OUTBOX_TYPES = ['uuid', 'text', 'text', 'bytea', 'jsonb', 'text'];

export type NewCart = { cartId: string; customerEmail: string; customerName: string };

/** The new carts, as insertCart returns each. */
export async function insertCarts(db: Db, carts: readonly NewCart[]): Promise<CartRow[]> {
  const result = await db.query<CartRow>({
    name: 'ticketing.insert-carts',
    text: `INSERT INTO ticketing.carts (id, customer_email, customer_name)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
           RETURNING ${CART_COLUMNS}`,
    values: columnsOf(carts, ['cartId', 'customerEmail', 'customerName']),
  });
  return result.rows;
}

export type NewCartWithLines = NewCart & {
  currency: string;
  lines: readonly FirstCartLine[];
  notification: OutboxInsert;
};

/**
 * insertCartWithLines for each cart: the carts written, each only if every one of its ticket
 * types still has the price and currency its caller used.
 */
export async function insertCartsWithLines(db: Db, carts: readonly NewCartWithLines[]): Promise<CartRow[]> {
  const lines = carts.flatMap(({ cartId, lines }) => lines.map((line) => ({ cartId, ...line })));
  const result = await db.query<CartRow>({
    name: 'ticketing.insert-carts-with-lines',
    text: `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], ${outboxArrays(5)})
               AS i(cart_id, customer_email, customer_name, currency, ${OUTBOX_COLUMNS})),
           wanted AS (
             SELECT * FROM unnest($11::uuid[], $12::uuid[], $13::integer[], $14::integer[])
               AS w(cart_id, ticket_type_id, quantity, unit_price_minor)),
           cart AS (
             INSERT INTO ticketing.carts (id, customer_email, customer_name, currency)
             SELECT i.cart_id, i.customer_email, i.customer_name, i.currency FROM input i
              WHERE NOT EXISTS (
                      SELECT FROM wanted w
                       WHERE w.cart_id = i.cart_id
                         AND NOT EXISTS (SELECT FROM ticketing.ticket_types t
                                          WHERE t.id = w.ticket_type_id AND t.price_minor = w.unit_price_minor
                                            AND t.currency = i.currency))
             RETURNING ${CART_COLUMNS}),
           added AS (
             INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor)
             SELECT w.cart_id, w.ticket_type_id, w.quantity, w.unit_price_minor
               FROM wanted w JOIN cart ON cart."cartId" = w.cart_id),
           ${outboxRowsCte('cart', '"cartId"')}
         SELECT * FROM cart`,
    values: [
      ...columnsOf(carts, ['cartId', 'customerEmail', 'customerName', 'currency']),
      ...outboxColumns(carts.map((cart) => cart.notification)),
      ...columnsOf(lines, ['cartId', 'ticketTypeId', 'quantity', 'unitPriceMinor']),
    ],
  });
  return result.rows;
}

export type LineWithNotification = CartItemLine & { notification: OutboxInsert };

/** addCartItemWithNotification for each line, one per cart: the ids of the carts written. */
export async function addCartItems(
  db: Db,
  lines: readonly LineWithNotification[],
  maxQuantity: number,
): Promise<Set<string>> {
  const result = await db.query<{ cartId: string }>({
    name: 'ticketing.add-cart-items',
    text: `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::integer[], $3::uuid[], $4::integer[], $5::integer[], $6::text[],
                                  ${outboxArrays(7)})
               AS i(cart_id, cart_version, ticket_type_id, quantity, unit_price_minor, currency, ${OUTBOX_COLUMNS})),
           changed AS (
             UPDATE ticketing.carts c SET version = c.version + 1
               FROM input i
              WHERE c.id = ANY($1::uuid[]) AND c.id = i.cart_id AND c.version = i.cart_version AND c.status = 'open'
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
  return new Set(result.rows.map((row) => row.cartId));
}

export type OrderWithNotification = PlacedOrder & { notification: OutboxInsert };

/** placeOrderWithNotification for each order, one per cart: the ids of the carts written. */
export async function placeOrders(db: Db, orders: readonly OrderWithNotification[]): Promise<Set<string>> {
  const result = await db.query<{ cartId: string }>({
    name: 'ticketing.place-orders',
    text: `WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::integer[], $4::bigint[], $5::text[], ${outboxArrays(6)})
               AS i(order_id, cart_id, cart_version, total_minor, currency, ${OUTBOX_COLUMNS})),
           changed AS (
             UPDATE ticketing.carts c SET status = 'checked_out', version = c.version + 1
               FROM input i
              WHERE c.id = ANY($2::uuid[]) AND c.id = i.cart_id AND c.version = i.cart_version AND c.status = 'open'
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
  return new Set(result.rows.map((row) => row.cartId));
}

/** The outbox columns' array parameters, numbered from `$first`. */
export function outboxArrays(first: number): string {
  return OUTBOX_TYPES.map((type, offset) => `$${first + offset}::${type}[]`).join(', ');
}

/** One array per outbox column, in outboxInsertValues' order. */
export function outboxColumns(notifications: readonly OutboxInsert[]): unknown[][] {
  const rows = notifications.map(outboxInsertValues);
  return OUTBOX_TYPES.map((_, column) => rows.map((row) => row[column]));
}

/** The CTE `outbox_row`: an outbox row for each cart the CTE `after` wrote (its cart id in `cartColumn`). */
function outboxRowsCte(after: string, cartColumn: string): string {
  const fromInput = OUTBOX_COLUMNS.split(', ')
    .map((column) => `i.${column}`)
    .join(', ');
  return `outbox_row AS (
      INSERT INTO ticketing.outbox (${OUTBOX_COLUMNS})
      SELECT ${fromInput} FROM input i JOIN ${after} ON ${after}.${cartColumn} = i.cart_id
      RETURNING tracking_id)`;
}

/**
 * The closing CTE and answer: an outbox row for each cart the CTE `after` wrote, and the ids of
 * those carts, read from the rows the outbox took (a cart is written if and only if its
 * notification is).
 */
function outboxRowsAfter(after: string): string {
  return `${outboxRowsCte(after, 'cart_id')}
    SELECT i.cart_id AS "cartId" FROM input i JOIN outbox_row o ON o.tracking_id = i.tracking_id`;
}

/** One array per key, for `unnest`: the statement's rows, column by column. */
function columnsOf<Row>(rows: readonly Row[], keys: ReadonlyArray<keyof Row>): unknown[][] {
  return keys.map((key) => rows.map((row) => row[key]));
}
