import { classifyDatabaseError, createMicroBatcher } from '@notify/shared/platform';
import { addCartItemWithNotification, type CartItemLine } from '../db/cart-item-repository.js';
import { type CartRow, type FirstCartLine, insertCart, insertCartWithLines } from '../db/cart-repository.js';
import {
  addCartItems,
  insertCarts,
  insertCartsWithLines,
  type LineWithNotification,
  type NewCart,
  type NewCartWithLines,
  type OrderWithNotification,
  placeOrders,
} from '../db/gathered-writes.js';
import { type PlacedOrder, placeOrderWithNotification } from '../db/order-repository.js';
import type { OutboxInsert } from '../db/outbox-repository.js';
import type { Db } from '../db/queryable.js';
import { MAX_LINE_QUANTITY } from './cart.js';

/**
 * The checkout flow's writes, as its commands make them: each one statement, atomic on its own,
 * that answers whether it applied (the line and the order apply only at the cart version read).
 */
export type CartWrites = {
  insertCart: (cart: NewCart) => Promise<CartRow>;
  /** Undefined when a ticket type's price or currency is no longer the one used. */
  insertCartWithLines: (
    cart: NewCart & { currency: string },
    lines: readonly FirstCartLine[],
    notification: OutboxInsert,
  ) => Promise<CartRow | undefined>;
  addCartItem: (line: CartItemLine, notification: OutboxInsert) => Promise<boolean>;
  placeOrder: (order: PlacedOrder, notification: OutboxInsert) => Promise<boolean>;
};

export type WriteKind = keyof CartWrites;

export type WriteObserver = {
  /** A statement about to run, with the commands it holds. */
  statement: (kind: WriteKind, commands: number) => void;
  /** A statement of several failed; each of its commands is written again alone. */
  failed: (kind: WriteKind) => void;
};

/** Each write in a statement of its own on `db`: how a command with an Idempotency-Key writes, in its transaction. */
export function cartWritesOn(db: Db): CartWrites {
  return {
    insertCart: (cart) => insertCart(db, cart),
    insertCartWithLines: (cart, lines, notification) => insertCartWithLines(db, cart, lines, notification),
    addCartItem: (line, notification) => addCartItemWithNotification(db, line, MAX_LINE_QUANTITY, notification),
    placeOrder: (order, notification) => placeOrderWithNotification(db, order, notification),
  };
}

export type GatheringOptions = {
  /** Commands of one kind written in one statement at most; 1 writes each alone. */
  maxPerStatement: number;
  /** Statements of one kind running at once; commands beyond them wait and go together. */
  statementsInFlight: number;
  /** Told of each statement, and of each statement of several written again one command at a time. */
  observer?: WriteObserver;
};

export type GatheredCartWrites = CartWrites & {
  /** Commands waiting for their write's statement. */
  waiting: () => number;
};

/**
 * The writes of concurrent commands without an Idempotency-Key, gathered by kind (the shared
 * micro-batcher): a write starts at once, with those of the same turn of the event loop, while
 * fewer than `statementsInFlight` statements of its kind run; those that come meanwhile go together in the next, up to `maxPerStatement`, one per
 * cart (gathered-writes.ts), and a statement of one runs as the single one does. A cart the
 * statement left unwritten answers as its own statement would (false: the command reads again).
 * A statement of several that fails as a whole for one row's sake (a constraint, a deadlock with
 * another instance's statement) fails every row of it: each of its writes is then run alone, so
 * that each command gets its own outcome, the error included. One that fails because the database
 * is away (a lost connection, a timeout) fails each of its commands with that error, as their own
 * statements would.
 */
export function gatheredCartWrites(pool: Db, options: GatheringOptions): GatheredCartWrites {
  const alone = cartWritesOn(pool);
  const gathered = <In extends { cartId: string }, Out>(
    kind: WriteKind,
    writeOne: (input: In) => Promise<Out>,
    writeMany: (inputs: In[]) => Promise<Out[]>,
  ) =>
    createMicroBatcher<In, Out>(
      (inputs) => {
        options.observer?.statement(kind, inputs.length);
        const [only] = inputs;
        return only && inputs.length === 1 ? writeOne(only).then((out) => [out]) : writeMany(inputs);
      },
      {
        maxBatchSize: options.maxPerStatement,
        maxConcurrentBatches: options.statementsInFlight,
        keyOf: (input) => input.cartId,
        // A row's fault (a constraint, a deadlock on some of its carts) is decided again per
        // command; a database that is away fails them all alike, and more statements would not help it.
        isolate: (error) => {
          if (classifyDatabaseError(error) === 'unavailable') return false;
          options.observer?.failed(kind);
          return true;
        },
      },
    );
  const carts = gathered<NewCart, CartRow>('insertCart', alone.insertCart, async (newCarts) => {
    const rows = new Map((await insertCarts(pool, newCarts)).map((row) => [row.cartId, row]));
    return newCarts.map(({ cartId }) => {
      const row = rows.get(cartId);
      if (!row) throw new Error(`cart ${cartId} was not inserted`);
      return row;
    });
  });
  const cartsWithLines = gathered<NewCartWithLines, CartRow | undefined>(
    'insertCartWithLines',
    (cart) => alone.insertCartWithLines(cart, cart.lines, cart.notification),
    async (many) => {
      const rows = new Map((await insertCartsWithLines(pool, many)).map((row) => [row.cartId, row]));
      return many.map(({ cartId }) => rows.get(cartId));
    },
  );
  const lines = gathered<LineWithNotification, boolean>(
    'addCartItem',
    (line) => alone.addCartItem(line, line.notification),
    async (many) => writtenOf(many, await addCartItems(pool, many, MAX_LINE_QUANTITY)),
  );
  const orders = gathered<OrderWithNotification, boolean>(
    'placeOrder',
    (order) => alone.placeOrder(order, order.notification),
    async (many) => writtenOf(many, await placeOrders(pool, many)),
  );
  return {
    insertCart: carts,
    insertCartWithLines: (cart, lines, notification) => cartsWithLines({ ...cart, lines, notification }),
    addCartItem: (line, notification) => lines({ ...line, notification }),
    placeOrder: (order, notification) => orders({ ...order, notification }),
    waiting: () => carts.queued() + cartsWithLines.queued() + lines.queued() + orders.queued(),
  };
}

function writtenOf(inputs: ReadonlyArray<{ cartId: string }>, written: ReadonlySet<string>): boolean[] {
  return inputs.map(({ cartId }) => written.has(cartId));
}
