import { v7 } from 'uuid';

/**
 * Keys in time order (UUIDv7) for carts, orders and tracking ids. A random UUID lands on a random
 * page of every index it is in: once the tables outgrow the cache, each insert reads a page and
 * writes its full image to the WAL after each checkpoint, a cost that grows with history. A new
 * time-ordered key lands at the right edge, where the pages are hot. The key shows when it was
 * made, which each of these rows stores anyway.
 */
export function newId(): string {
  return v7();
}
