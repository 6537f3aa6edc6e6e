import { AppError } from '@notify/shared/platform';
import { type CartWithItems, findCartWithItems } from '../db/cart-repository.js';
import type { Db } from '../db/queryable.js';
import { type Cart, toCart } from './cart.js';
import type { CartCacheOutcome } from './cart-cache.js';

export async function getCart(db: Db, cartId: string): Promise<Cart> {
  const found = await findCartWithItems(db, cartId);
  if (!found) throw cartNotFound(cartId);
  return toCart(found.cart, found.items);
}

/** A cart that takes changes: it exists and is not checked out yet. */
export function requireOpenCart<T extends CartWithItems>(found: T | undefined, cartId: string): T {
  if (!found) throw cartNotFound(cartId);
  if (found.cart.status !== 'open') {
    throw new AppError(409, 'cart_checked_out', `cart ${cartId} is already checked out`);
  }
  return found;
}

/**
 * Each lost race means another request's change went through, so with N requests at one cart at
 * once, none loses more than N - 1 times; past this many the cart is busy, not unlucky.
 */
const MAX_ATTEMPTS = 10;

/** Where an attempt's starting state comes from: this instance's memory of the cart, else a read. */
export type CartSource<S> = {
  remembered: () => S | undefined;
  read: () => Promise<S | undefined>;
  /** Drops what was remembered, after it led anywhere but to a write that applied. */
  forget: () => void;
  count: (outcome: CartCacheOutcome) => void;
};

/**
 * Runs a read-then-write attempt on a cart until its write applies: an attempt answers undefined
 * when the cart changed between its read and its write, and the next one reads it again. The first
 * attempt starts from what this instance remembers of the cart, if anything; whatever it ends in
 * but a write that applied (another version, a refusal such as 409 quantity_limit) is decided again
 * from a read, so a stale memory costs a statement and never decides an answer.
 */
export async function retryWhileCartChanges<S, T>(
  cartId: string,
  source: CartSource<S>,
  attempt: (found: S | undefined) => Promise<T | undefined>,
): Promise<T> {
  const remembered = source.remembered();
  if (remembered !== undefined) {
    const result = await attempt(remembered).catch((error: unknown) => {
      if (error instanceof AppError) return undefined;
      throw error;
    });
    source.count(result === undefined ? 'stale' : 'hit');
    if (result !== undefined) return result;
    source.forget();
  } else {
    source.count('miss');
  }
  for (let tries = 1; tries <= MAX_ATTEMPTS; tries++) {
    const result = await attempt(await source.read());
    if (result !== undefined) return result;
  }
  throw new AppError(409, 'cart_busy', `cart ${cartId} kept changing during this request; try again`);
}

function cartNotFound(cartId: string): AppError {
  return new AppError(404, 'cart_not_found', `no cart ${cartId}`, [
    { field: 'params.cartId', message: 'names no cart' },
  ]);
}
