import { fileURLToPath } from 'node:url';
import { migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { testPool } from '@notify/test-support/pool.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { preloadHistory } from '@notify/test-support/system/history.js';
import type pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import '@notify/test-support/provided-context.js';
import { migrateTicketingDatabase } from '../../../ticketing-service/src/service.js';
import { markRunRows, type RunRows } from '../../lib/pipeline.js';

const HANDLER_MIGRATIONS = fileURLToPath(new URL('../../../notification-handler/migrations', import.meta.url));

/**
 * A database of the suite's own with both services' tables and a small history before the run's
 * mark, as a bench scenario on `--history` has them: `db` and `run` are set once it is ready, and it
 * is dropped after the suite.
 */
export function useRunDatabase(name: string): { db: pg.Pool; run: RunRows } {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_${name}`;
  const state = {} as { db: pg.Pool; run: RunRows };
  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    await migrate({ databaseUrl: url, dir: HANDLER_MIGRATIONS, schema: 'notifications' }, silentLogger);
    state.db = testPool({ connectionString: url, max: 2 });
    await preloadHistory(state.db, { notifications: 50, outbox: 40 });
    state.run = await markRunRows(state.db);
  });
  afterAll(async () => {
    await state.db?.end();
    await dropDatabase(adminUrl, databaseName);
  });
  return state;
}
