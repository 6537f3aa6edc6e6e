/**
 * What a failed statement says about the database, read the same way by both services:
 * - `unavailable`: the database is away (no connection, shutting down, out of resources, not
 *   taking writes). Nothing is wrong with the request or message: try again once it answers.
 * - `conflict`: a serialization failure or deadlock; running the statement again will do.
 * - `refused`: the database answered and said no to this statement (bad data, a constraint, a
 *   trigger). Running it again fails the same way.
 */
export type DatabaseFailure = 'unavailable' | 'conflict' | 'refused';

// No SQLSTATE class starts with E, and every errno code Node puts on a socket error does (EPIPE
// has five letters, like a SQLSTATE).
const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/;
// 08 connection exception, 28 invalid authorization (a rotated password), 3D invalid catalog
// (the database not there yet), 42 a statement the database cannot run as it stands (a grant
// revoked, a table or column missing while a restore runs: our statements are fixed texts with
// the data in parameters, so every message would fail alike), 53 insufficient resources, 57
// operator intervention (shutdown, cancel, statement timeout), 55 an object not in the state the
// statement needs (a lock not available in time, an object in use), 58 system error, 72 snapshot
// too old; 25006, a read-only transaction (a standby answering while a failover promotes another),
// 40003, a statement whose completion is unknown, and XX001 and XX002, data or an index corrupted on
// disk: all about the server's state, none about our data. Dead-lettering every message that meets
// one would leave an operator to replay them all; held, they wait for the database to be mended.
const UNAVAILABLE_CLASSES = new Set(['08', '28', '3D', '42', '53', '55', '57', '58', '72']);
const UNAVAILABLE_CODES = new Set(['25006', '40003', 'XX001', 'XX002']);
const CONFLICT_CODES = new Set(['40001', '40P01']);

// pg's own errors for a connection that failed, closed or went silent (they carry no code).
const DRIVER_CONNECTION_ERROR =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/;

/** pg gave up on the connection itself (lost, refused, silent): every statement after it on that client fails alike. */
export function isDriverConnectionError(error: unknown): boolean {
  return !hasSqlState(error) && error instanceof Error && DRIVER_CONNECTION_ERROR.test(error.message);
}

/** Whether the error carries a SQLSTATE, i.e. came from the server rather than the driver or the socket. */
export function hasSqlState(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SQLSTATE.test(code);
}

export function classifyDatabaseError(error: unknown): DatabaseFailure {
  // No SQLSTATE: the driver's own errors (refused or reset connections, connect and query timeouts).
  if (!hasSqlState(error)) return 'unavailable';
  const { code } = error;
  if (CONFLICT_CODES.has(code)) return 'conflict';
  return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code) ? 'unavailable' : 'refused';
}
