import type { Db } from './queryable.js';

export type CartItemRow = {
  ticketTypeId: string;
  eventName: string;
  ticketTypeName: string;
  quantity: number;
  unitPriceMinor: number;
  currency: string;
};

export async function listCartItems(db: Db, cartId: string): Promise<CartItemRow[]> {
  const result = await db.query<CartItemRow>({
    name: 'ticketing.list-cart-items',
    text: `SELECT i.ticket_type_id AS "ticketTypeId", e.name AS "eventName", t.name AS "ticketTypeName",
            i.quantity, i.unit_price_minor AS "unitPriceMinor", t.currency
       FROM ticketing.cart_items i
       JOIN ticketing.ticket_types t ON t.id = i.ticket_type_id
       JOIN ticketing.events e ON e.id = t.event_id
      WHERE i.cart_id = $1
      ORDER BY i.added_at, i.ticket_type_id`,
    values: [cartId],
  });
  return result.rows;
}

/**
 * Adding a ticket type already in the cart raises its quantity; the line then takes the catalog's
 * current price, so a line never mixes two prices. Answers false, changing nothing, when the line
 * would go over `maxQuantity`: the check and the change are one statement, under the cart's lock.
 */
export async function addCartItem(
  db: Db,
  item: { cartId: string; ticketTypeId: string; quantity: number; unitPriceMinor: number },
  maxQuantity: number,
): Promise<boolean> {
  const result = await db.query({
    name: 'ticketing.add-cart-item',
    text: `INSERT INTO ticketing.cart_items (cart_id, ticket_type_id, quantity, unit_price_minor)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (cart_id, ticket_type_id) DO UPDATE
              SET quantity = cart_items.quantity + EXCLUDED.quantity, unit_price_minor = EXCLUDED.unit_price_minor
            WHERE cart_items.quantity + EXCLUDED.quantity <= $5`,
    values: [item.cartId, item.ticketTypeId, item.quantity, item.unitPriceMinor, maxQuantity],
  });
  return result.rowCount === 1;
}
