import type { CartItemRow } from './cart-item-repository.js';
import type { TicketTypeRow } from './catalog-repository.js';
import { type OutboxInsert, outboxInsertValues, outboxRowAfter } from './outbox-repository.js';
import type { Db } from './queryable.js';

export type CartStatus = 'open' | 'checked_out';

export type CartRow = {
  cartId: string;
  customerEmail: string;
  customerName: string;
  currency: string;
  status: CartStatus;
  createdAt: Date;
  /** Grows with every change to the cart or its lines: a write applies only to the version it read. */
  version: number;
};

/** A cart with its lines in the order they were first added, read in one round trip. */
export type CartWithItems = { cart: CartRow; items: CartItemRow[] };

export const CART_COLUMNS = `id AS "cartId", customer_email AS "customerEmail", customer_name AS "customerName",
  currency, status, created_at AS "createdAt", version`;

// The lines as one JSON array beside the cart's columns: a cart and its lines cost one statement
// and come from one snapshot, so that they match the version read with them.
const ITEMS_COLUMN = `coalesce((
    SELECT json_agg(json_build_object(
             'ticketTypeId', i.ticket_type_id, 'eventName', e.name, 'ticketTypeName', t.name,
             'quantity', i.quantity, 'unitPriceMinor', i.unit_price_minor, 'currency', t.currency)
           ORDER BY i.added_at, i.ticket_type_id)
      FROM ticketing.cart_items i
      JOIN ticketing.ticket_types t ON t.id = i.ticket_type_id
      JOIN ticketing.events e ON e.id = t.event_id
     WHERE i.cart_id = c.id), '[]') AS items`;

const TICKET_TYPE_COLUMN = `(
    SELECT json_build_object(
             'ticketTypeId', t.id, 'eventId', t.event_id, 'eventName', e.name, 'name', t.name,
             'priceMinor', t.price_minor, 'currency', t.currency)
      FROM ticketing.ticket_types t JOIN ticketing.events e ON e.id = t.event_id
     WHERE t.id = $2) AS "ticketType"`;

export async function insertCart(
  db: Db,
  cart: { cartId: string; customerEmail: string; customerName: string },
): Promise<CartRow> {
  const result = await db.query<CartRow>({
    name: 'ticketing.insert-cart',
    text: `INSERT INTO ticketing.carts (id, customer_email, customer_name) VALUES ($1, $2, $3) RETURNING ${CART_COLUMNS}`,
    values: [cart.cartId, cart.customerEmail, cart.customerName],
  });
  const row = result.rows[0];
  if (!row) throw new Error('INSERT ... RETURNING gave no row');
  return row;
}

/** A new cart's first line, at the price and in the currency its caller read from the catalog. */
export type FirstCartLine = { ticketTypeId: string; quantity: number; unitPriceMinor: number };

/**
 * A new cart with its first lines (one per ticket type) and the notification of them, in one
 * statement, and only if every ticket type still has the price and currency the caller used
 * (which it may have remembered a while: cart-cache.ts); otherwise nothing is written and the
 * answer is undefined, so that the caller reads the catalog again. The lines share one `added_at`,
 * so they are listed by ticket type id, as findCartWithItems orders them.
 */
export async function insertCartWithLines(
  db: Db,
  cart: { cartId: string; customerEmail: string; customerName: string; currency: string },
  lines: readonly FirstCartLine[],
  notification: OutboxInsert,
): Promise<CartRow | undefined> {
  const result = await db.query<CartRow>({
    name: 'ticketing.insert-cart-with-lines',
    text: `WITH wanted AS (
             SELECT * FROM unnest($5::uuid[], $6::integer[], $7::integer[]) AS w(ticket_type_id, quantity, unit_price_minor)),
           cart AS (
             INSERT INTO ticketing.carts (id, customer_email, customer_name, currency)
             SELECT $1, $2, $3, $4
              WHERE (SELECT count(*) FROM wanted w JOIN ticketing.ticket_types t
                        ON t.id = w.ticket_type_id AND t.price_minor = w.unit_price_minor AND t.currency = $4)
                    = cardinality($5::uuid[])
             RETURNING ${CART_COLUMNS}),
           added AS (
             INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor)
             SELECT c."cartId", w.ticket_type_id, w.quantity, w.unit_price_minor FROM cart c, wanted w),
           ${outboxRowAfter('cart', 8)}
         SELECT * FROM cart`,
    values: [
      cart.cartId,
      cart.customerEmail,
      cart.customerName,
      cart.currency,
      lines.map((line) => line.ticketTypeId),
      lines.map((line) => line.quantity),
      lines.map((line) => line.unitPriceMinor),
      ...outboxInsertValues(notification),
    ],
  });
  return result.rows[0];
}

export async function findCartWithItems(db: Db, cartId: string): Promise<CartWithItems | undefined> {
  const result = await db.query<CartRow & { items: CartItemRow[] }>({
    name: 'ticketing.find-cart-with-items',
    text: `SELECT ${CART_COLUMNS}, ${ITEMS_COLUMN} FROM ticketing.carts c WHERE c.id = $1`,
    values: [cartId],
  });
  return splitItems(result.rows[0]);
}

/**
 * The cart with its lines, and the ticket type about to be added, in one round trip:
 * `ticketType` is null when there is no such type.
 */
export async function findCartWithTicketType(
  db: Db,
  cartId: string,
  ticketTypeId: string,
): Promise<(CartWithItems & { ticketType: TicketTypeRow | null }) | undefined> {
  const result = await db.query<CartRow & { items: CartItemRow[]; ticketType: TicketTypeRow | null }>({
    name: 'ticketing.find-cart-with-ticket-type',
    text: `SELECT ${CART_COLUMNS}, ${ITEMS_COLUMN}, ${TICKET_TYPE_COLUMN} FROM ticketing.carts c WHERE c.id = $1`,
    values: [cartId, ticketTypeId],
  });
  const found = splitItems(result.rows[0]);
  return found && { ...found, ticketType: result.rows[0]?.ticketType ?? null };
}

function splitItems(row: (CartRow & { items: CartItemRow[] }) | undefined): CartWithItems | undefined {
  if (!row) return undefined;
  const { items, ...cart } = row;
  return { cart, items };
}
