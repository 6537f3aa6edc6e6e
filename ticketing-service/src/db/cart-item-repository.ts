import { type OutboxInsert, outboxInsertAfter, outboxInsertValues } from './outbox-repository.js';
import type { Db } from './queryable.js';

export type CartItemRow = {
  ticketTypeId: string;
  eventName: string;
  ticketTypeName: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
};

/** A line to add, at the cart version and catalog price its caller read. */
export type CartItemLine = {
  cartId: string;
  cartVersion: number;
  ticketTypeId: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
};

/**
 * Adding a ticket type already in the cart raises its quantity; the line then takes the catalog's
 * current price, so a line never mixes two prices. One statement writes the line, the cart's next
 * version and the notification of the change, and only if the cart is still open at the version
 * the caller read (`cartVersion`) and the ticket type still has the price and currency the caller
 * used (which it may have remembered a while: cart-cache.ts); a concurrent change makes the cart's
 * update wait for it, then find another version, and nothing is written. Answers false when
 * nothing was written: the caller reads the cart again. The line's limit is checked here too, in
 * the same statement.
 */
export async function addCartItemWithNotification(
  db: Db,
  item: CartItemLine,
  maxQuantity: number,
  notification: OutboxInsert,
): Promise<boolean> {
  const result = await db.query({
    name: 'ticketing.add-cart-item',
    text: `WITH changed AS (
             UPDATE ticketing.carts c SET version = version + 1
              WHERE id = $1 AND version = $2 AND status = 'open'
                AND EXISTS (SELECT FROM ticketing.ticket_types t
                             WHERE t.id = $3 AND t.price_minor = $5 AND t.currency = $7 AND c.currency = $7)
             RETURNING id),
           added AS (
             INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor)
             SELECT id, $3::uuid, $4::integer, $5::integer FROM changed
             ON CONFLICT (cart_id, ticket_type_id) DO UPDATE
                SET quantity = cart_items.quantity + EXCLUDED.quantity, unit_price_minor = EXCLUDED.unit_price_minor
              WHERE cart_items.quantity + EXCLUDED.quantity <= $6
             RETURNING 1),
           ${outboxInsertAfter('added', 8)}`,
    values: [
      item.cartId,
      item.cartVersion,
      item.ticketTypeId,
      item.quantity,
      item.unitPriceMinor,
      maxQuantity,
      item.currency,
      ...outboxInsertValues(notification),
    ],
  });
  return result.rowCount === 1;
}
