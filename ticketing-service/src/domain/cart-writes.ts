import { addCartItemWithNotification, type CartItemLine } from '../db/cart-item-repository.js';
import { type CartRow, insertCart } from '../db/cart-repository.js';
import { addCartItems, insertCarts, type NewCart, placeOrders } from '../db/gathered-writes.js';
import { type PlacedOrder, placeOrderWithNotification } from '../db/order-repository.js';
import type { OutboxInsert } from '../db/outbox-repository.js';
import type { Db } from '../db/queryable.js';
import { createWriteGatherer } from '../db/write-gatherer.js';
import { MAX_LINE_QUANTITY } from './cart.js';

/**
 * The checkout flow's writes, as its commands make them: each one statement, atomic on its own,
 * that answers whether it applied (the line and the order apply only at the cart version read).
 */
export type CartWrites = {
  insertCart: (cart: NewCart) => Promise<CartRow>;
  addCartItem: (line: CartItemLine, notification: OutboxInsert) => Promise<boolean>;
  placeOrder: (order: PlacedOrder, notification: OutboxInsert) => Promise<boolean>;
};

export type WriteKind = keyof CartWrites;

/** Each write in a statement of its own on `db`: how a command with an Idempotency-Key writes, in its transaction. */
export function cartWritesOn(db: Db): CartWrites {
  return {
    insertCart: (cart) => insertCart(db, cart),
    addCartItem: (line, notification) => addCartItemWithNotification(db, line, MAX_LINE_QUANTITY, notification),
    placeOrder: (order, notification) => placeOrderWithNotification(db, order, notification),
  };
}

export type GatheringOptions = {
  /** Commands of one kind written in one statement at most; 1 writes each alone. */
  maxPerStatement: number;
  /** Statements of one kind running at once; commands beyond them wait and go together. */
  statementsInFlight: number;
  onStatement?: (kind: WriteKind, writes: number, failed: boolean) => void;
};

export type GatheredCartWrites = CartWrites & {
  /** Commands waiting for their write's statement. */
  waiting: () => number;
};

/**
 * The writes of concurrent commands without an Idempotency-Key, gathered by kind into one
 * statement each (write-gatherer.ts) on `pool`, one command per cart in a statement.
 */
export function gatheredCartWrites(pool: Db, options: GatheringOptions): GatheredCartWrites {
  const alone = cartWritesOn(pool);
  const shared = (kind: WriteKind) => ({
    maxPerStatement: options.maxPerStatement,
    statementsInFlight: options.statementsInFlight,
    onStatement: (writes: number, failed: boolean) => options.onStatement?.(kind, writes, failed),
  });
  const carts = createWriteGatherer<NewCart, CartRow>({
    ...shared('insertCart'),
    keyOf: (cart) => cart.cartId,
    writeOne: (cart) => alone.insertCart(cart),
    writeMany: async (newCarts) => new Map((await insertCarts(pool, newCarts)).map((row) => [row.cartId, row])),
  });
  type Line = CartItemLine & { notification: OutboxInsert };
  const lines = createWriteGatherer<Line, true>({
    ...shared('addCartItem'),
    keyOf: (line) => line.cartId,
    writeOne: async (line) => (await alone.addCartItem(line, line.notification)) || undefined,
    writeMany: async (many) => writtenCarts(await addCartItems(pool, many, MAX_LINE_QUANTITY)),
  });
  type Order = PlacedOrder & { notification: OutboxInsert };
  const orders = createWriteGatherer<Order, true>({
    ...shared('placeOrder'),
    keyOf: (order) => order.cartId,
    writeOne: async (order) => (await alone.placeOrder(order, order.notification)) || undefined,
    writeMany: async (many) => writtenCarts(await placeOrders(pool, many)),
  });
  return {
    insertCart: async (cart) => {
      const row = await carts.write(cart);
      if (!row) throw new Error(`cart ${cart.cartId} was not inserted`);
      return row;
    },
    addCartItem: async (line, notification) => (await lines.write({ ...line, notification })) === true,
    placeOrder: async (order, notification) => (await orders.write({ ...order, notification })) === true,
    waiting: () => carts.waiting() + lines.waiting() + orders.waiting(),
  };
}

function writtenCarts(cartIds: ReadonlySet<string>): Map<string, true> {
  return new Map([...cartIds].map((cartId) => [cartId, true]));
}
