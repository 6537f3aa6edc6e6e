import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { endClient } from './database.js';
import type { Logger } from './logger.js';

export type MigrationSettings = {
  databaseUrl: string;
  /** Folder of numbered `.sql` files (`-- Up Migration` sections). */
  dir: string;
  /** The service's own schema; its migration history lives there too. */
  schema: string;
  connectTimeoutMs?: number;
};

/**
 * Forward-only migrations. node-pg-migrate takes a PostgreSQL advisory lock, and 'wait' makes a
 * second instance starting at the same moment queue behind the first instead of failing. The
 * connection is ours, not one node-pg-migrate would open from the URL: that one would wait for an
 * unanswering server for ever, and with no 'error' listener a connection lost between two of its
 * statements would end the process. No statement timeout: a migration may build an index on a
 * large table, and the advisory lock may be held by another instance's.
 */
export async function migrate(
  { databaseUrl, dir, schema, connectTimeoutMs = 10_000 }: MigrationSettings,
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
    await client.connect();
    await runMigrations(client, dir, schema, log);
  } finally {
    await endClient(client);
  }
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
    advisoryLockMode: 'wait',
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (msg) => log.warn(msg),
      error: (msg) => log.error(msg),
    },
  });
  if (applied.length > 0) log.info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
}
