import { type OutboxInsert, outboxInsertAfter, outboxInsertValues } from './outbox-repository.js';
import type { Db } from './queryable.js';

/** An order for a cart, at the cart version its caller read. */
export type PlacedOrder = {
  orderId: string;
  cartId: string;
  cartVersion: number;
  totalMinor: number;
  currency: string;
};

/**
 * One statement for a checkout: the cart marked checked out, the order, and the notification in
 * the outbox, only if the cart is still open at the version the caller read (`cartVersion`).
 * Answers false when nothing was written (the cart changed or was checked out meanwhile): the
 * caller reads it again. orders.cart_id is unique as well: a cart becomes at most one order.
 */
export async function placeOrderWithNotification(
  db: Db,
  order: PlacedOrder,
  notification: OutboxInsert,
): Promise<boolean> {
  const result = await db.query({
    name: 'ticketing.place-order',
    text: `WITH changed AS (
             UPDATE ticketing.carts SET status = 'checked_out', version = version + 1
              WHERE id = $2 AND version = $3 AND status = 'open'
             RETURNING id),
           placed AS (
             INSERT INTO ticketing.orders (id, cart_id, total_minor, currency)
             SELECT $1::uuid, id, $4::bigint, $5::text FROM changed
             RETURNING cart_id),
           ${outboxInsertAfter('placed', 6)}`,
    values: [
      order.orderId,
      order.cartId,
      order.cartVersion,
      order.totalMinor,
      order.currency,
      ...outboxInsertValues(notification),
    ],
  });
  return result.rowCount === 1;
}
