import type { Db } from './queryable.js';

export type CartStatus = 'open' | 'checked_out';

export type CartRow = {
  cartId: string;
  customerEmail: string;
  customerName: string;
  currency: string;
  status: CartStatus;
  createdAt: Date;
};

const CART_COLUMNS = `id AS "cartId", customer_email AS "customerEmail", customer_name AS "customerName",
  currency, status, created_at AS "createdAt"`;

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

/** `lock`: holds the row until the transaction ends, so that changes to one cart go one at a time. */
export async function findCart(db: Db, cartId: string, { lock = false } = {}): Promise<CartRow | undefined> {
  const result = await db.query<CartRow>({
    name: lock ? 'ticketing.find-cart-for-update' : 'ticketing.find-cart',
    text: `SELECT ${CART_COLUMNS} FROM ticketing.carts WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    values: [cartId],
  });
  return result.rows[0];
}

export async function markCartCheckedOut(db: Db, cartId: string): Promise<void> {
  await db.query(`UPDATE ticketing.carts SET status = 'checked_out' WHERE id = $1`, [cartId]);
}
