import { takeRandomBytes } from '@notify/shared/platform';
import { v7 } from 'uuid';

/**
 * Keys in time order (UUIDv7) for carts, orders and tracking ids. A random UUID lands on a random
 * page of every index it is in: once the tables outgrow the cache, each insert reads a page and
 * writes its full image to the WAL after each checkpoint, a cost that grows with history. A new
 * time-ordered key lands at the right edge, where the pages are hot. The key shows when it was
 * made, which each of these rows stores anyway.
 *
 * The random part comes from the shared pool: left to itself, uuid asks the system for 16 bytes
 * per key. Given them, it orders keys to the millisecond, not within one, which keeps each insert
 * at the right edge all the same.
 */
export function newId(): string {
  return v7({ random: takeRandomBytes(16) });
}
