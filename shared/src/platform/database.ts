import pg from 'pg';
import { beforeDeadline } from './confirm-waits.js';
import type { Logger } from './logger.js';

export type DatabaseSettings = {
  url: string;
  applicationName: string;
  maxConnections?: number;
  /** Bounds every statement on the server and every wait on the client. */
  statementTimeoutMs?: number;
  /** Bounds the wait for a connection (a free one from the pool, or a new one). */
  connectTimeoutMs?: number;
  /**
   * How long the server lets a session sit in an open transaction with no statement from its client
   * before it ends the session, and the transaction with it. Set it above the longest wait that a
   * transaction of the pool's makes between two statements (the outbox relay's: its broker
   * confirms).
   */
  idleInTransactionTimeoutMs?: number;
};

/**
 * A transaction of ours runs its statements back to back: idle this long, its client is gone,
 * frozen or cut off. Its row locks would otherwise hold until the server's kernel noticed the lost
 * connection (over two hours of TCP keepalive by default, never for a frozen process whose kernel
 * still answers), and every other instance would pass over those rows (SKIP LOCKED) or wait on them.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * Sent when a session opens. A prepared statement keeps the generic plan it got at its first
 * executions for as long as its connection lives, and with autovacuum off nothing makes
 * PostgreSQL plan it again: a plan made while a table was empty (a sequential scan is cheapest
 * there) would stay while the table grows to millions of rows. With sequential scans disabled the
 * planner takes an index whenever one can serve the statement, whatever the statistics say; a
 * statement that no index serves still runs, by a sequential scan.
 */
export const SESSION_OPTIONS = '-c enable_seqscan=off';

/** The one pool a service owns. Idle clients that lose their server emit 'error' on the pool. */
export function createPool(settings: DatabaseSettings, log: Logger): pg.Pool {
  const statementTimeoutMs = settings.statementTimeoutMs ?? 10_000;
  const clients = new Set<pg.Client>();
  // From its creation, not from pg-pool's 'connect': a client still connecting to a server gone
  // silent holds the pool's end until its connect timeout, and `endPool` must be able to drop it.
  class TrackedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      clients.add(this);
      this.once('end', () => clients.delete(this));
    }
  }
  const pool = new pg.Pool({
    Client: TrackedClient,
    connectionString: settings.url,
    application_name: settings.applicationName,
    max: settings.maxConnections ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs ?? IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAlive: true,
    options: SESSION_OPTIONS,
  });
  pool.on('error', (err) => log.warn({ err }, 'idle database client lost its connection'));
  clientsOfPool.set(pool, clients);
  return pool;
}

/** Each pool's clients, connected or still connecting, until their connection ends: what `endPool` may have to drop. */
const clientsOfPool = new WeakMap<pg.Pool, Set<pg.Client>>();

/** A readiness probe answers quickly or says down. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * A readiness probe's own pool: two connections, 2 s to get one, and a statement_timeout of 2 s, so
 * that a probe that takes too long is cancelled on the server instead of running on after the
 * answer went out. Apart from the service's pool, a burst of work that holds every one of its
 * connections does not make the service look down.
 */
export function createProbePool(url: string, applicationName: string, log: Logger): pg.Pool {
  return createPool(
    {
      url,
      applicationName: `${applicationName} probe`,
      maxConnections: 2,
      statementTimeoutMs: PROBE_TIMEOUT_MS,
      connectTimeoutMs: PROBE_TIMEOUT_MS,
    },
    log,
  );
}

/**
 * Runs `work` on a client of its own. A checked-out client is ours to watch: the pool only listens
 * for errors on idle ones, and an 'error' event with no listener (the server went away between two
 * queries) would crash the process. A client that failed that way is destroyed rather than
 * returned to the pool, as is one whose statement outlived its read timeout (see
 * `isReadTimeout`), and one that `work` reports broken through `markBroken`.
 */
export async function withClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, markBroken: (error: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (error: Error) => {
    broken ??= error;
  };
  client.on('error', markBroken);
  try {
    return await work(client, markBroken);
  } catch (error) {
    if (isReadTimeout(error)) markBroken(error);
    throw error;
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}

/** Runs `work` in one transaction; rolls back on any error and rethrows it. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, markBroken) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A ROLLBACK would queue behind the statement still running, and time out in turn: the
      // connection is dropped instead, which ends the transaction on the server.
      if (!isReadTimeout(error)) await client.query('ROLLBACK').catch(markBroken);
      throw error;
    }
  });
}

/**
 * pg's `query_timeout` rejects the statement's promise but leaves the statement running on the
 * connection, and every later statement on it waits behind that one: a client it happened to is
 * never handed out again. pg marks this error by its message alone.
 */
export function isReadTimeout(error: unknown): error is Error {
  return error instanceof Error && error.message === 'Query read timeout';
}

/**
 * Connects a client of our own (not a pooled one). pg's `connect()` never settles when the client
 * is ended before its connection is established: `end()` marks the client ending, and the socket's
 * close is then taken for the goodbye, not reported to the connect. Whoever awaits the connect (a
 * maintenance run that a stop ends, say) would wait for ever; here it rejects once the client ends.
 */
export function connectClient(client: pg.Client): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ended = () => reject(new Error('the connection was closed before it was established'));
    client.once('end', ended);
    client
      .connect()
      .then(() => resolve(), reject)
      .finally(() => client.off('end', ended));
  });
}

/** How long `endClient` waits for the server to see its session off before it drops the socket. */
const END_WAIT_MS = 1_000;

/**
 * How long `endPool` lets the statements still under way finish. By the time a stop ends a pool, the
 * work it waits for is settled or given up (the handler's drain has used its share of the bound): a
 * statement still out is one a silent server holds, and a live one answers within this.
 */
const POOL_END_WAIT_MS = 250;

/**
 * Ends a client of our own (not a pooled one) within `waitMs`. pg's `end()` with no statement
 * running sends its goodbye and waits for the server to close the socket: a server or a network
 * gone silent never does, and the wait lasts until the kernel gives up on the connection (a
 * quarter of an hour of retransmissions), far past any shutdown bound. Past `waitMs` the socket
 * is destroyed: the server ends the session when it notices, as it would after a crash.
 */
export async function endClient(client: pg.Client, waitMs = END_WAIT_MS): Promise<void> {
  const ended = client.end().then(
    () => true,
    () => true,
  );
  if (await beforeDeadline(ended, Date.now() + waitMs, false)) return;
  dropConnection(client);
  await ended;
}

/**
 * Ends a pool within about twice `waitMs`, for a stop. pg's `end()` waits for every client still checked
 * out to come back, and for the goodbye of each one that comes back meanwhile: on a server gone
 * silent, a statement under way holds it until its read timeout (statement timeout + 1 s, 11 s by
 * default), and a goodbye for ever; a connection still being opened holds it until its connect
 * timeout. Past `waitMs` the sockets of the clients the pool had when the stop began are destroyed:
 * their statements fail at once (the work they belonged to was given up by the stop's earlier
 * steps), and each client goes back to the pool and out of it. Rejects if the
 * pool still has not ended `waitMs` after that.
 */
export async function endPool(pool: pg.Pool, waitMs = POOL_END_WAIT_MS): Promise<void> {
  const clients = [...(clientsOfPool.get(pool) ?? [])];
  const ended = pool.end().then(
    () => true,
    () => true,
  );
  if (await beforeDeadline(ended, Date.now() + waitMs, false)) return;
  for (const client of clients) dropConnection(client);
  if (await beforeDeadline(ended, Date.now() + waitMs, false)) return;
  throw new Error(`the pool did not end within ${2 * waitMs} ms: a client is still checked out`);
}

/** The client's socket, destroyed: pg reports the connection ended to whoever holds the client. */
function dropConnection(client: pg.Client): void {
  (client as pg.Client & { connection?: { stream?: { destroy: () => void } } }).connection?.stream?.destroy();
}
