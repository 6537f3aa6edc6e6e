import { randomFillSync } from 'node:crypto';

// One call into the system's random source per id costs more than the id: randomBytes per trace
// id was 3.5 % of the ticketing service's CPU and 6 % of the handler's at 1,000 notifications/s,
// and uuid's v7 asks crypto.getRandomValues for every key (2.4 % of the ticketing service's). Ids
// are cut from a pool of cryptographically random bytes instead, refilled 4 KiB at a time, as
// crypto.randomUUID does for its own.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/**
 * `size` random bytes (at most 4 KiB), as a view of the pool: read or copy them before the next
 * call, which may refill it. No two calls return the same bytes.
 */
export function takeRandomBytes(size: number): Buffer {
  if (size > pool.length) throw new RangeError(`at most ${pool.length} random bytes at a time`);
  if (poolOffset + size > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return bytes;
}
