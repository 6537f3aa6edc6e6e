import { setTimeout as sleep } from 'node:timers/promises';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import pg from 'pg';
import { endClient } from './database.js';
import { redactUrl } from './log-redaction.js';
import type { Logger } from './logger.js';

export type MigrationSettings = {
  databaseUrl: string;
  /** Folder of numbered `.sql` files (`-- Up Migration` sections). */
  dir: string;
  /** The service's own schema; its migration history lives there too. */
  schema: string;
  connectTimeoutMs?: number;
  /** How long one statement of a migration waits for a table lock before the attempt rolls back. */
  lockTimeoutMs?: number;
  /** The pause between attempts, during which the statements queued behind the migration run. */
  lockRetryDelayMs?: number;
  /** How long attempts go on before migrate fails (the service then exits, and says why). */
  lockRetryForMs?: number;
};

const SQLSTATE_LOCK_NOT_AVAILABLE = '55P03';

/**
 * Forward-only migrations, one transaction for all that are pending. An advisory lock (the one
 * node-pg-migrate takes, so that instances of an older build coordinate with this one) makes a
 * second instance starting at the same moment wait for the first instead of failing; waiting for
 * it blocks nobody's traffic, so that wait has no timeout.
 *
 * A migration's table lock is another matter: an ALTER TABLE queued behind a long transaction (an
 * old instance's maintenance VACUUM, an operator's open session) makes every later statement on
 * that table queue behind it, and the running instances' requests time out for as long as it waits.
 * So each statement waits at most `lockTimeoutMs` for its lock; the attempt then rolls back, the
 * queue behind it drains during `lockRetryDelayMs`, and the migrations run again, until
 * `lockRetryForMs` has passed. No statement timeout: a migration may build an index on a large table.
 *
 * The connection is ours, not one node-pg-migrate would open from the URL: that one would wait for
 * an unanswering server for ever, and with no 'error' listener a connection lost between two of its
 * statements would end the process.
 */
export async function migrate(
  {
    databaseUrl,
    dir,
    schema,
    connectTimeoutMs = 10_000,
    lockTimeoutMs = 2_000,
    lockRetryDelayMs = 5_000,
    lockRetryForMs = 5 * 60_000,
  }: MigrationSettings,
  log: Logger,
): Promise<void> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: `${schema} migrations`,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
  });
  client.on('error', (err) => log.warn({ err, schema }, 'migration connection lost'));
  try {
    await client.connect().catch((error: Error) => {
      // The first connection a service opens: what fails here (a refused TLS certificate, a wrong
      // password, a database that does not exist) says nothing of which server it was.
      throw new Error(`could not connect to PostgreSQL at ${redactUrl(databaseUrl)}: ${error.message}`, {
        cause: error,
      });
    });
    await client.query(`SELECT pg_advisory_lock(${PG_MIGRATE_LOCK_ID})`);
    await client.query(`SET lock_timeout = ${Math.round(lockTimeoutMs)}`);
    const giveUpAt = Date.now() + lockRetryForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await runMigrations(client, dir, schema, log);
        break;
      } catch (error) {
        if ((error as { code?: unknown }).code !== SQLSTATE_LOCK_NOT_AVAILABLE) throw error;
        // Only to say what it waits for: a failure to tell must not hide the lock timeout.
        const holders = await oldestLockHolders(client, schema).catch(() => []);
        if (Date.now() + lockRetryDelayMs > giveUpAt) {
          log.error({ schema, attempt, lockRetryForMs, holders }, 'migration gave up waiting for a lock');
          throw error;
        }
        log.warn(
          { schema, attempt, lockTimeoutMs, retryInMs: lockRetryDelayMs, holders },
          'migration waited too long for a lock: rolled back, trying again',
        );
        await sleep(lockRetryDelayMs);
      }
    }
    // Ending the session would release the lock too; unlocking first frees the next instance even
    // when the end is slow.
    await client.query(`SELECT pg_advisory_unlock(${PG_MIGRATE_LOCK_ID})`);
  } finally {
    await endClient(client);
  }
}

/**
 * The sessions whose transactions hold a lock in the schema, oldest first: what an operator looks
 * at to see what the migration waits for. Without their statements, which may hold personal data.
 */
async function oldestLockHolders(client: pg.Client, schema: string) {
  const { rows } = await client.query<{ pid: number; applicationName: string; state: string; inTransactionMs: number }>(
    `SELECT DISTINCT ON (a.pid) a.pid, a.application_name AS "applicationName", a.state,
            round(extract(epoch FROM now() - a.xact_start) * 1000)::integer AS "inTransactionMs"
       FROM pg_locks l
       JOIN pg_class c ON c.oid = l.relation
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE n.nspname = $1 AND l.granted AND l.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL`,
    [schema],
  );
  return rows.sort((a, b) => b.inTransactionMs - a.inTransactionMs).slice(0, 3);
}

async function runMigrations(client: pg.Client, dir: string, schema: string, log: Logger): Promise<void> {
  const applied = await runner({
    dbClient: client,
    dir,
    schema,
    createSchema: true,
    migrationsSchema: schema,
    migrationsTable: 'schema_migrations',
    direction: 'up',
    checkOrder: true,
    singleTransaction: true,
    // migrate holds the advisory lock across attempts.
    noLock: true,
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg) => log.warn(msg),
      error: (msg) => log.error(msg),
    },
  });
  if (applied.length > 0) log.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
}
