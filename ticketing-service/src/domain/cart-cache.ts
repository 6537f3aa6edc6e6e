import { LRUCache } from 'lru-cache';
import type { CartWithItems } from '../db/cart-repository.js';
import type { TicketTypeRow } from '../db/catalog-repository.js';

/** Where a command on a cart started: see retryWhileCartChanges. */
export type CartCacheOutcome = 'hit' | 'stale' | 'miss';

/**
 * The carts this instance wrote last, as committed, and the ticket types it read, so that a
 * command on a cart it just wrote goes to the database once (its write) instead of twice (a read,
 * then the write). Nothing here is trusted: every write applies only at the cart version it was
 * worked out from, and an add only at the ticket type's price and currency it used
 * (cart-item-repository.ts), so an entry that another instance, a rolled-back transaction or an
 * operator made stale costs one failed write, after which the command forgets the entry and reads.
 * Names (of events, of ticket types) are the one thing shown as remembered: a ticket type's for
 * CATALOG_TTL_MS at most, a cart's lines' until the cart is read again (after CART_IDLE_MS idle,
 * or once anyone else changed it).
 */
export type CartCache = {
  cart(cartId: string): CartWithItems | undefined;
  ticketType(ticketTypeId: string): TicketTypeRow | undefined;
  /** Only a state that is committed: a cart remembered from an uncommitted write could match a later version. */
  rememberCart(found: CartWithItems): void;
  rememberTicketType(ticketType: TicketTypeRow): void;
  forgetCart(cartId: string): void;
  forgetTicketType(ticketTypeId: string): void;
  count(outcome: CartCacheOutcome): void;
};

/** A checkout takes minutes; a cart idle for longer is read again. */
const CART_IDLE_MS = 10 * 60_000;
/** Prices are checked by every write; this bounds how long a renamed event keeps its old name here. */
const CATALOG_TTL_MS = 10_000;
const MAX_TICKET_TYPES = 10_000;

/** `maxCarts` 0 remembers nothing: every command reads its cart. */
export function createCartCache(maxCarts: number, count: (outcome: CartCacheOutcome) => void = () => {}): CartCache {
  if (maxCarts === 0) return { ...NO_CACHE, count };
  // lru-cache over a Map of our own: eviction of the least recently used and a time to live per
  // entry, without a timer per entry (expired entries are dropped when they are next looked up).
  // It reads the clock once per `ttlResolution` and arms a timer to forget the reading: at its
  // default, 1 ms, that was a timer for nearly every request (1.2 % of the API's CPU in a
  // profile); to the second is precise enough for lifetimes of seconds and minutes.
  const clock = { ttlResolution: 1_000 };
  const carts = new LRUCache<string, CartWithItems>({
    max: maxCarts,
    ttl: CART_IDLE_MS,
    updateAgeOnGet: true,
    ...clock,
  });
  const ticketTypes = new LRUCache<string, TicketTypeRow>({ max: MAX_TICKET_TYPES, ttl: CATALOG_TTL_MS, ...clock });
  return {
    cart: (cartId) => carts.get(cartId),
    ticketType: (ticketTypeId) => ticketTypes.get(ticketTypeId),
    rememberCart: (found) => {
      carts.set(found.cart.cartId, found);
    },
    rememberTicketType: (ticketType) => {
      ticketTypes.set(ticketType.ticketTypeId, ticketType);
    },
    forgetCart: (cartId) => {
      carts.delete(cartId);
    },
    forgetTicketType: (ticketTypeId) => {
      ticketTypes.delete(ticketTypeId);
    },
    count,
  };
}

const NO_CACHE: CartCache = {
  cart: () => undefined,
  ticketType: () => undefined,
  rememberCart: () => {},
  rememberTicketType: () => {},
  forgetCart: () => {},
  forgetTicketType: () => {},
  count: () => {},
};
