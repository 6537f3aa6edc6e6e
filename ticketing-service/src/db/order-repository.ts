import type { Db } from './queryable.js';

export async function insertOrder(
  db: Db,
  order: { orderId: string; cartId: string; totalMinor: number; currency: string },
): Promise<void> {
  await db.query(`INSERT INTO ticketing.orders (id, cart_id, total_minor, currency) VALUES ($1, $2, $3, $4)`, [
    order.orderId,
    order.cartId,
    order.totalMinor,
    order.currency,
  ]);
}
