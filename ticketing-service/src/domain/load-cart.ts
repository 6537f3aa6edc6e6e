import { AppError } from '@notify/shared/platform';
import { listCartItems } from '../db/cart-item-repository.js';
import { type CartRow, findCart } from '../db/cart-repository.js';
import type { Db } from '../db/queryable.js';
import { type Cart, toCart } from './cart.js';

export async function getCart(db: Db, cartId: string): Promise<Cart> {
  const row = await findCart(db, cartId);
  if (!row) throw cartNotFound(cartId);
  return toCart(row, await listCartItems(db, cartId));
}

/** Locks the cart for the rest of the transaction; a checked-out cart takes no more changes. */
export async function lockOpenCart(db: Db, cartId: string): Promise<CartRow> {
  const row = await findCart(db, cartId, { lock: true });
  if (!row) throw cartNotFound(cartId);
  if (row.status !== 'open') throw new AppError(409, 'cart_checked_out', `cart ${cartId} is already checked out`);
  return row;
}

function cartNotFound(cartId: string): AppError {
  return new AppError(404, 'cart_not_found', `no cart ${cartId}`);
}
