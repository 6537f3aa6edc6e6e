import { AppError, type InFlight, inTransaction, type TraceContext } from '@notify/shared/platform';
import type pg from 'pg';
import { claimIdempotencyKey, findIdempotencyKey, saveIdempotentResponse } from '../db/idempotency-key-repository.js';
import type { Db } from '../db/queryable.js';
import type { CartCache } from './cart-cache.js';
import { type CartWrites, cartWritesOn } from './cart-writes.js';
import type { CommandContext, OutboxTarget } from './notifications.js';

export type CommandResponse = { status: number; body: unknown };
export type CommandOutcome = CommandResponse & { replayed: boolean };

/** From an `Idempotency-Key` header: the key, and a hash of the request it came with. */
export type IdempotencyRequest = { key: string; fingerprint: string };

/** What a command takes from its HTTP request besides its input. */
export type CommandRequest = { idempotency: IdempotencyRequest | undefined; trace: TraceContext };

export type CommandDependencies = {
  pool: pg.Pool;
  /** How commands without an Idempotency-Key write: gathered with concurrent ones (cart-writes.ts). */
  writes: CartWrites;
  outbox: OutboxTarget;
  carts: CartCache;
  /** Called after a commit that may have written outbox rows: the relay publishes them at once. */
  onCommitted: () => void;
  /** An Idempotency-Key older than this is a new key: its stored response is not replayed. */
  idempotencyKeyTtlHours: number;
  /** Where each command is counted until it settles: a stop waits for them. */
  inFlight: InFlight;
};

/** How long a request waits for a concurrent one with the same key before answering 409. */
const KEY_WAIT = '5s';

/**
 * Runs a command. Every command writes in one statement, atomic on its own (what it read before
 * is checked in that statement: see migrations/007_cart_version.sql), so without an
 * Idempotency-Key it needs no transaction: no BEGIN and COMMIT round trips, and no connection of
 * its own (a read takes one from the pool for its statement; the write goes with those of
 * concurrent commands). With a key it runs in one transaction with its idempotency record. Only successful responses are stored: a command
 * that failed changed nothing, so the client may retry it with the same key.
 */
export function runCommand(
  deps: CommandDependencies,
  request: CommandRequest,
  work: (context: CommandContext) => Promise<CommandResponse>,
): Promise<CommandOutcome> {
  return deps.inFlight.track(runTracked(deps, request, work));
}

async function runTracked(
  deps: CommandDependencies,
  { idempotency, trace }: CommandRequest,
  work: (context: CommandContext) => Promise<CommandResponse>,
): Promise<CommandOutcome> {
  const committedEffects: Array<() => void> = [];
  const contextOn = (client: Db, writes: CartWrites): CommandContext => ({
    client,
    writes,
    outbox: deps.outbox,
    trace,
    carts: deps.carts,
    afterCommit: (effect) => committedEffects.push(effect),
  });
  const committed = () => {
    for (const effect of committedEffects) effect();
    deps.onCommitted();
  };
  if (!idempotency) {
    const response = await work(contextOn(deps.pool, deps.writes));
    committed();
    return { ...response, replayed: false };
  }
  const outcome = await inTransaction(deps.pool, async (client): Promise<CommandOutcome> => {
    const previous = idempotency && (await claimOrReplay(client, idempotency, deps.idempotencyKeyTtlHours));
    if (previous) return { ...previous, replayed: true };
    const response = await work(contextOn(client, cartWritesOn(client)));
    if (idempotency) await saveIdempotentResponse(client, idempotency.key, response.status, response.body);
    return { ...response, replayed: false };
  });
  if (!outcome.replayed) committed();
  return outcome;
}

/** Claims the key for this transaction, or gives the response stored for it. */
async function claimOrReplay(client: pg.PoolClient, { key, fingerprint }: IdempotencyRequest, ttlHours: number) {
  await client.query(`SET LOCAL lock_timeout = '${KEY_WAIT}'`);
  const claimed = await claimIdempotencyKey(client, key, fingerprint, ttlHours).catch((error: unknown) => {
    if ((error as { code?: string }).code === '55P03') {
      throw new AppError(409, 'request_in_progress', 'a request with this Idempotency-Key is still in progress');
    }
    throw error;
  });
  await client.query('SET LOCAL lock_timeout TO DEFAULT');
  if (claimed) return undefined;

  const stored = await findIdempotencyKey(client, key);
  if (!stored || stored.responseStatus === null) throw new Error(`idempotency key ${key} has no stored response`);
  if (stored.fingerprint !== fingerprint) {
    throw new AppError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with another request', [
      { field: 'headers.idempotency-key', message: 'was used with another method, path or body' },
    ]);
  }
  return { status: stored.responseStatus, body: stored.responseBody };
}
