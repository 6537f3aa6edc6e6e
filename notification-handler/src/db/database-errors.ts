/**
 * What a failed statement means for the message behind it:
 * - `unavailable`: the database is away (no connection, shutting down, out of resources). Nothing is
 *   wrong with the message: hold it and try again once the database answers.
 * - `conflict`: a serialization failure or deadlock; running the statement again will do.
 * - `refused`: the database answered and said no to this statement (bad data, a constraint, a
 *   trigger). Running it again fails the same way: the message is poison.
 */
export type DatabaseFailure = 'unavailable' | 'conflict' | 'refused';

const SQLSTATE = /^[0-9A-Z]{5}$/;
// 08 connection exception, 28 invalid authorization (a rotated password), 3D invalid catalog
// (the database not there yet), 53 insufficient resources, 57 operator intervention (shutdown,
// cancel, statement timeout), 58 system error; and 25006, a read-only transaction (a standby
// answering while a failover promotes another): all about the server's state, none about our data.
// Refusing the message for one of these would dead-letter every message until it passes.
const UNAVAILABLE_CLASSES = new Set(['08', '28', '3D', '53', '57', '58']);
const UNAVAILABLE_CODES = new Set(['25006']);
const CONFLICT_CODES = new Set(['40001', '40P01']);

export function classifyDatabaseError(error: unknown): DatabaseFailure {
  const code = (error as { code?: unknown } | null)?.code;
  // No SQLSTATE: the driver's own errors (refused or reset connections, connect and query timeouts).
  if (typeof code !== 'string' || !SQLSTATE.test(code)) return 'unavailable';
  if (CONFLICT_CODES.has(code)) return 'conflict';
  return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code) ? 'unavailable' : 'refused';
}

/** A statement the database refused: carries the database's reason for the dead-letter header. */
export class DatabaseRefusal extends Error {
  override readonly name = 'DatabaseRefusal';
  constructor(override readonly cause: Error & { code?: string }) {
    super(`database refused: ${cause.message}${cause.code ? ` (SQLSTATE ${cause.code})` : ''}`);
  }
}

/** Thrown to the waiting callers when shutdown ends a wait for the database. */
export class DatabaseWaitInterrupted extends Error {
  override readonly name = 'DatabaseWaitInterrupted';
  constructor() {
    super('stopped waiting for the database: shutting down');
  }
}
