import { runner } from 'node-pg-migrate';
import type { Logger } from './logger.js';

export type MigrationSettings = {
  databaseUrl: string;
  /** Folder of numbered `.sql` files (`-- Up Migration` sections). */
  dir: string;
  /** The service's own schema; its migration history lives there too. */
  schema: string;
};

/**
 * Forward-only migrations. node-pg-migrate takes a PostgreSQL advisory lock, and 'wait' makes a
 * second instance starting at the same moment queue behind the first instead of failing.
 */
export async function migrate({ databaseUrl, dir, schema }: MigrationSettings, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
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
