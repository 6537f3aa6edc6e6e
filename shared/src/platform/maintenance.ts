import { createHash } from 'node:crypto';
import pg from 'pg';
import { envInt, envMs } from './config.js';
import { beforeDeadline } from './confirm-waits.js';
import { connectClient, endClient, SESSION_OPTIONS } from './database.js';
import { isDriverConnectionError } from './database-errors.js';
import type { Logger } from './logger.js';
import { vacuumIfNeeded } from './table-vacuum.js';

/**
 * Settings every service that owns tables reads (spread into its config schema). A service keeps
 * its own tables healthy even where the server's autovacuum is off: it purges what its retention
 * allows and vacuums what changed enough, one instance at a time.
 */
export const maintenanceEnv = {
  /** How often one instance of the service purges and vacuums its tables. */
  MAINTENANCE_INTERVAL_MS: envMs(60_000, { min: 1_000, max: 86_400_000 }),
  /** Rows deleted (or erased) per statement: each batch is its own short transaction. */
  MAINTENANCE_BATCH_SIZE: envInt(1_000, { min: 1, max: 100_000 }),
  /**
   * A table is vacuumed once this many rows (or 10 % of its rows, if more) are dead or new; a queue
   * table (the outbox, idempotency keys) at this many whatever its size.
   */
  MAINTENANCE_VACUUM_THRESHOLD_ROWS: envInt(1_000, { min: 1 }),
};

/** A connection of the job's own: its session holds the advisory lock for the whole run. */
export type MaintenanceClient = Pick<pg.Client, 'query'>;

export type TaskContext = {
  batchSize: number;
  /** Epoch ms: a task stops between two batches once past it, and goes on at the next run. */
  deadline: number;
};

/** A purge or an erasure: returns the rows it changed. */
export type MaintenanceTask = {
  name: string;
  run: (client: MaintenanceClient, context: TaskContext) => Promise<number>;
};

export type MaintenanceSettings = {
  /** Names the advisory lock: every instance of one service shares it, so only one runs at a time. */
  name: string;
  databaseUrl: string;
  intervalMs: number;
  batchSize: number;
  vacuumThresholdRows: number;
  /** Run in order, before the vacuum pass. */
  tasks: readonly MaintenanceTask[];
  /** Schema-qualified tables vacuumed (and analyzed) when they changed enough. */
  tables: readonly string[];
  /** Those of `tables` vacuumed at `vacuumThresholdRows` however large they are (see vacuumIfNeeded). */
  queueTables?: readonly string[];
  /** Bound on each statement of the run but the vacuums: 30 s (tests shorten it). */
  batchStatementTimeoutMs?: number;
  log: Logger;
};

export type MaintenanceRun =
  | { ran: false; reason: 'another instance holds the lock' }
  | { ran: true; changed: Record<string, number>; vacuumed: string[]; failed: string[] };

export type Maintenance = {
  /** One run now (what the timer does every interval); tests call it directly. */
  runOnce: () => Promise<MaintenanceRun>;
  /**
   * Stops the timer; a run in progress has its statement cancelled, its connection closed, and is
   * awaited. Within about a second when the server does not answer: see CANCEL_WAIT_MS.
   */
  stop: () => Promise<void>;
};

/** Bounds of the job's own statements: a purge batch is small, a VACUUM of a large table is not. */
const BATCH_STATEMENT_TIMEOUT_MS = 30_000;
const VACUUM_STATEMENT_TIMEOUT_MS = 30 * 60_000;
/**
 * How much longer than a statement's own bound the run waits for its answer: past it the server
 * has gone silent (a statement it cut short would have answered with its error).
 */
const READ_TIMEOUT_MARGIN_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long a stop waits for the server to take the cancel of the run's statement: a connection of
 * its own and one statement, which a live server serves in milliseconds. A server gone silent
 * never answers, and the stop, one of the closers that share SHUTDOWN_TIMEOUT_MS, waited out the
 * cancel's connect timeout (5 s) for nothing: the cancel could not have reached it either.
 */
const CANCEL_WAIT_MS = 1_000;
/** How often the server checks, during a statement of the run, that the run's connection is still there. */
const CONNECTION_CHECK_INTERVAL_MS = 1_000;
/** SQLSTATE of a setting the server does not know. */
const UNDEFINED_PARAMETER = '42704';
const VACUUM_COST_DELAY_MS = 2;
const VACUUM_COST_LIMIT = 200;

/**
 * Every `intervalMs` (first run one interval after the start), one instance of the service takes
 * a PostgreSQL advisory lock on a connection of its own, runs its purges in small batches, and
 * vacuums (with ANALYZE) those of its tables whose dead or new rows passed the threshold; then it
 * releases the lock. An instance that does not get the lock skips that run. A task that fails is
 * logged and the others, and the vacuums, go on; a run that fails (its connection lost) is logged,
 * and the next one comes at the next interval.
 */
export function startMaintenance(settings: MaintenanceSettings): Maintenance {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current: { done: Promise<MaintenanceRun>; client: () => pg.Client | undefined } | undefined;

  const runOnce = (): Promise<MaintenanceRun> => {
    if (current) return current.done;
    let client: pg.Client | undefined;
    const done = maintainOnce(
      settings,
      (opened) => {
        client = opened;
      },
      () => stopped,
    ).finally(() => {
      current = undefined;
    });
    current = { done, client: () => client };
    return done;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      await runOnce().catch((err: unknown) => {
        // A run cut short by stop() is not a failure worth a warning.
        if (!stopped)
          settings.log.warn({ err, job: settings.name }, 'table maintenance failed; next try at the next interval');
      });
      schedule();
    }, settings.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const running = current;
      if (!running) return;
      // Heard before the cancel goes out: the run rejects as soon as its statement is cancelled.
      const finished = running.done.catch(() => undefined);
      const client = running.client();
      const processId = (client as { processID?: number } | undefined)?.processID;
      const cancelled = processId !== undefined && (await cancelBackend(settings.databaseUrl, processId));
      // A cancel that came between two statements cancelled nothing: the run would go on with the
      // next one. Its connection closed, every further statement fails at once. A server that did
      // not take the cancel (silent, gone, or the run still connecting) would not answer a goodbye
      // either: the socket is dropped at once, and the server ends the session when it notices.
      // The run loses nothing that way: a purge batch rolled back and a VACUUM cut short are done
      // again at the next run, and one the server finished before it noticed is simply done.
      if (client) await endClient(client, cancelled ? undefined : 0);
      await finished;
    },
  };
}

async function maintainOnce(
  settings: MaintenanceSettings,
  opened: (client: pg.Client) => void,
  stopping: () => boolean,
) {
  // Read timeouts per statement: the vacuums pass their own, longer one. A purge batch on a
  // connection gone silent waited out the vacuums' 30 minutes.
  const client = new pg.Client({
    connectionString: settings.databaseUrl,
    application_name: `${settings.name} maintenance`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: batchStatementTimeout(settings) + READ_TIMEOUT_MARGIN_MS,
    keepAlive: true,
    options: SESSION_OPTIONS,
  });
  client.on('error', (err) => settings.log.debug({ err }, 'maintenance connection lost'));
  opened(client);
  await connectClient(client);
  try {
    const key = lockKey(settings.name);
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      key,
    ]);
    if (!rows[0]?.locked) {
      settings.log.debug({ job: settings.name }, 'another instance maintains the tables this time');
      return { ran: false, reason: 'another instance holds the lock' } as const;
    }
    try {
      return await maintainLocked(client, settings, stopping);
    } finally {
      // A lost connection has released the lock already.
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
    }
  } finally {
    await endClient(client);
  }
}

async function maintainLocked(
  client: pg.Client,
  settings: MaintenanceSettings,
  stopping: () => boolean,
): Promise<MaintenanceRun> {
  const startedAt = Date.now();
  // Half the interval for purges: a long backlog (the first run after a long pause) is worked off
  // over several runs instead of one run that never ends.
  const context = { batchSize: settings.batchSize, deadline: startedAt + settings.intervalMs / 2 };
  const batchTimeoutMs = batchStatementTimeout(settings);
  await client.query(`SET statement_timeout = ${batchTimeoutMs}`);
  await client.query(`SET lock_timeout = ${Math.round(batchTimeoutMs / 10)}`);
  await watchForDroppedConnection(client, batchTimeoutMs);
  const changed: Record<string, number> = {};
  const failed: string[] = [];
  for (const task of settings.tasks) {
    try {
      changed[task.name] = await task.run(client, context);
    } catch (err) {
      // A task that fails every run (a batch that always outlasts its timeout, say) must not keep
      // the tasks after it, and the vacuums, from ever running. A stop ends the whole run, and so
      // does a connection lost or gone silent: every statement after it would fail the same way,
      // each after its own timeout.
      if (stopping() || isDriverConnectionError(err)) throw err;
      failed.push(task.name);
      settings.log.warn(
        { err, job: settings.name, task: task.name },
        'a maintenance task failed; the others go on, and it runs again at the next interval',
      );
    }
  }
  await client.query(`SET statement_timeout = ${VACUUM_STATEMENT_TIMEOUT_MS}`);
  // A VACUUM typed by hand runs flat out; autovacuum's pacing (a 2 ms rest per 200 cost units,
  // its defaults) spreads the work, so that a vacuum of a large table does not take a core from
  // the traffic for its whole length.
  await client.query(`SET vacuum_cost_delay = ${VACUUM_COST_DELAY_MS}`);
  await client.query(`SET vacuum_cost_limit = ${VACUUM_COST_LIMIT}`);
  const vacuumed = await vacuumIfNeeded(client, settings.tables, settings.vacuumThresholdRows, {
    queueTables: settings.queueTables,
    readTimeoutMs: VACUUM_STATEMENT_TIMEOUT_MS + READ_TIMEOUT_MARGIN_MS,
  });
  const worked = vacuumed.length > 0 || Object.values(changed).some((rows) => rows > 0);
  const line = { job: settings.name, changed, vacuumed, failed, ms: Date.now() - startedAt };
  if (worked) settings.log.info(line, 'tables maintained');
  else settings.log.debug(line, 'tables maintained');
  return { ran: true, changed, vacuumed, failed };
}

/**
 * A stop whose cancel the server did not take in time drops the run's connection, and a backend
 * busy with a statement notices that only once the statement ends: a lock wait until the lock
 * timeout, a VACUUM for up to its 30 minutes, holding the job's advisory lock all along, so that
 * every instance skips its runs meanwhile. Checked every second, the server ends such a session
 * during the statement. A session left idle by a run that gave up on a silent connection would keep
 * the lock until the server's TCP keepalive noticed (two hours by default): idle longer than a
 * statement's bound (the run's steps follow one another at once), the server ends it. PostgreSQL
 * before 14 knows neither setting: there it waits as before.
 */
async function watchForDroppedConnection(client: pg.Client, idleLimitMs: number): Promise<void> {
  for (const setting of [
    `client_connection_check_interval = ${CONNECTION_CHECK_INTERVAL_MS}`,
    `idle_session_timeout = ${idleLimitMs}`,
  ]) {
    await client.query(`SET ${setting}`).catch((error) => {
      if ((error as { code?: unknown }).code !== UNDEFINED_PARAMETER) throw error;
    });
  }
}

function batchStatementTimeout(settings: MaintenanceSettings): number {
  return settings.batchStatementTimeoutMs ?? BATCH_STATEMENT_TIMEOUT_MS;
}

/** Calls `batch` (one statement changing at most `batchSize` rows) until one comes back short or time is up. */
export async function repeatInBatches(batch: () => Promise<number>, { batchSize, deadline }: TaskContext) {
  let total = 0;
  for (;;) {
    const changed = await batch();
    total += changed;
    if (changed < batchSize || Date.now() >= deadline) return total;
  }
}

/** A stable 64-bit key per job name (the lock is per database, so tests in other databases never meet). */
export function lockKey(name: string): string {
  return createHash('sha256').update(`notify maintenance ${name}`).digest().readBigInt64BE(0).toString();
}

/** pg_cancel_backend on a connection of its own: true if the server answered within CANCEL_WAIT_MS. */
async function cancelBackend(databaseUrl: string, processId: number): Promise<boolean> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CANCEL_WAIT_MS,
    query_timeout: CANCEL_WAIT_MS,
  });
  client.on('error', () => undefined);
  const answered = connectClient(client)
    .then(() => client.query('SELECT pg_cancel_backend($1)', [processId]))
    .then(
      () => true,
      () => false,
    );
  // One bound for the connection and the statement together: each of pg's timeouts bounds only its own step.
  const confirmed = await beforeDeadline(answered, Date.now() + CANCEL_WAIT_MS, false);
  await endClient(client, confirmed ? undefined : 0);
  return confirmed;
}
