import pg from 'pg';
import type { Logger } from './logger.js';

export type DatabaseSettings = {
  url: string;
  applicationName: string;
  maxConnections?: number;
  /** Bounds every statement on the server and every wait on the client. */
  statementTimeoutMs?: number;
};

/** The one pool a service owns. Idle clients that lose their server emit 'error' on the pool. */
export function createPool(settings: DatabaseSettings, log: Logger): pg.Pool {
  const statementTimeoutMs = settings.statementTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: settings.url,
    application_name: settings.applicationName,
    max: settings.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    keepAlive: true,
  });
  pool.on('error', (err) => log.warn({ err }, 'idle database client lost its connection'));
  return pool;
}

/**
 * Runs `work` in one transaction; rolls back on any error and rethrows it. A checked-out client is
 * ours to watch: the pool only listens for errors on idle ones, and an 'error' event with no
 * listener (the server went away between two queries) would crash the process. A client that
 * failed that way, or could not roll back, is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken ??= rollbackError;
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export async function pingDatabase(pool: pg.Pool): Promise<void> {
  await pool.query('SELECT 1');
}
