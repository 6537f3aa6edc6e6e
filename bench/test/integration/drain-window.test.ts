import { fileURLToPath } from 'node:url';
import { migrate } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { createDatabase, dropDatabase, withDatabase } from '@notify/test-support/system/database.js';
import { preloadHistory } from '@notify/test-support/system/history.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '@notify/test-support/provided-context.js';
import { migrateTicketingDatabase } from '../../../ticketing-service/src/service.js';
import type { CpuSnapshot } from '../../lib/cpu-accounting.js';
import { openDrainWindow } from '../../lib/drain-window.js';
import { countSentAfter, markRunRows, type RunRows } from '../../lib/pipeline.js';

const HANDLER_MIGRATIONS = fileURLToPath(new URL('../../../notification-handler/migrations', import.meta.url));

describe('a drain’s window after its warm-up', () => {
  const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  const databaseName = `${inject('runId')}_bench_drain_window`;
  let db: pg.Pool;
  let run: RunRows;

  async function inProgress(count: number): Promise<string[]> {
    const { rows } = await db.query<{ tracking_id: string }>(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at)
       SELECT gen_random_uuid(), 'checkout.completed', 'buyer@example.com', 'Buyer', '{}', 'in_progress', now(), now()
       FROM generate_series(1, $1)
       RETURNING tracking_id`,
      [count],
    );
    return rows.map((row) => row.tracking_id);
  }

  const send = (ids: string[]) =>
    db.query(
      `UPDATE notifications.notifications SET status = 'sent', sent_at = clock_timestamp() WHERE tracking_id = ANY($1::uuid[])`,
      [ids],
    );

  beforeAll(async () => {
    const url = await createDatabase(adminUrl, databaseName);
    await migrateTicketingDatabase(url, silentLogger);
    await migrate({ databaseUrl: url, dir: HANDLER_MIGRATIONS, schema: 'notifications' }, silentLogger);
    db = new pg.Pool({ connectionString: url, max: 2 });
    await preloadHistory(db, { notifications: 50, outbox: 40 });
    run = await markRunRows(db);
  });

  afterAll(async () => {
    await db?.end();
    await dropDatabase(adminUrl, databaseName);
  });

  it('When the warm-up settles while the bench waits, then the window opens after it, with the CPU read then, and counts only the run’s sends after it', async () => {
    const ids = await inProgress(6);
    const [warmUp, measured] = [ids.slice(0, 3), ids.slice(3)];
    let snapshotAt: Date | undefined;
    const snapshot = async () => {
      snapshotAt = new Date();
      return { at: Date.now() } as CpuSnapshot;
    };
    const warming = new Promise((resolve) => setTimeout(resolve, 300)).then(() => send(warmUp));

    const window = await openDrainWindow(db, 3, snapshot, { deadline: Date.now() + 10_000, run });
    await warming;
    await send(measured);
    // A row of the history sent now is not the run's.
    await db.query(
      `UPDATE notifications.notifications SET sent_at = clock_timestamp()
       WHERE tracking_id = (SELECT tracking_id FROM notifications.notifications WHERE created_at < $1 LIMIT 1)`,
      [run.since],
    );

    expect(window.settledBefore).toBe(3);
    expect(window.cpuBefore.at).toBeGreaterThan(0);
    expect(window.openedAt.getTime()).toBeGreaterThanOrEqual((snapshotAt as Date).getTime() - 50);
    expect(await countSentAfter(db, run, window.openedAt)).toBe(3);
  });

  it('When the warm-up never settles, then the wait fails at the deadline instead of opening a window', async () => {
    const run2 = await markRunRows(db);
    await inProgress(1);

    await expect(
      openDrainWindow(db, 1, async () => ({ at: 0 }) as CpuSnapshot, { deadline: Date.now() + 300, run: run2 }),
    ).rejects.toThrow(/drain warm-up: global deadline reached at 0 settled/);
  });
});
