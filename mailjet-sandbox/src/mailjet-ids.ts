import { randomInt, randomUUID } from 'node:crypto';

/**
 * Real MessageIDs sit above 2^60, far past Number.MAX_SAFE_INTEGER (2^53 - 1): a client that
 * parses them as doubles loses digits. The sandbox hands out the same kind of number on purpose.
 */
const ID_FLOOR = 1n << 60n;

/** Mailjet writes MessageHref with the v3 REST path, even for a v3.1 send. */
export const MESSAGE_HREF_PREFIX = 'https://api.mailjet.com/v3/REST/message/';

/** Returns a generator of increasing MessageIDs, as decimal strings, starting at a random point. */
export function createMessageIdSequence(start: bigint = ID_FLOOR + BigInt(randomInt(0, 2 ** 40))): () => string {
  let next = start;
  return () => {
    const id = next.toString();
    next += 1n;
    return id;
  };
}

export const newUuid: () => string = randomUUID;
