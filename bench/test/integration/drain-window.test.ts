import { describe, expect, it } from 'vitest';
import type { CpuSnapshot } from '../../lib/cpu-accounting.js';
import { openDrainWindow } from '../../lib/drain-window.js';
import { countSentAfter, markRunRows } from '../../lib/pipeline.js';
import { useRunDatabase } from './run-database.js';

describe('a drain’s window after its warm-up', () => {
  const database = useRunDatabase('bench_drain_window');

  async function inProgress(count: number): Promise<string[]> {
    const { rows } = await database.db.query<{ tracking_id: string }>(
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
    database.db.query(
      `UPDATE notifications.notifications SET status = 'sent', sent_at = clock_timestamp() WHERE tracking_id = ANY($1::uuid[])`,
      [ids],
    );

  it('When the warm-up settles while the bench waits, then the window opens after it, with the CPU read then, and counts only the run’s sends after it', async () => {
    const ids = await inProgress(6);
    const [warmUp, measured] = [ids.slice(0, 3), ids.slice(3)];
    let snapshotAt: Date | undefined;
    const snapshot = async () => {
      snapshotAt = new Date();
      return { at: Date.now() } as CpuSnapshot;
    };
    const warming = new Promise((resolve) => setTimeout(resolve, 300)).then(() => send(warmUp));

    const window = await openDrainWindow(database.db, 3, snapshot, {
      deadline: Date.now() + 10_000,
      run: database.run,
    });
    await warming;
    await send(measured);
    // A row of the history sent now is not the run's.
    await database.db.query(
      `UPDATE notifications.notifications SET sent_at = clock_timestamp()
       WHERE tracking_id = (SELECT tracking_id FROM notifications.notifications WHERE created_at < $1 LIMIT 1)`,
      [database.run.since],
    );

    expect(window.settledBefore).toBe(3);
    expect(window.cpuBefore.at).toBeGreaterThan(0);
    expect(window.openedAt.getTime()).toBeGreaterThanOrEqual((snapshotAt as Date).getTime() - 50);
    expect(await countSentAfter(database.db, database.run, window.openedAt)).toBe(3);
  });

  it('When the warm-up never settles, then the wait fails at the deadline instead of opening a window', async () => {
    const later = await markRunRows(database.db);
    await inProgress(1);

    await expect(
      openDrainWindow(database.db, 1, async () => ({ at: 0 }) as CpuSnapshot, {
        deadline: Date.now() + 300,
        run: later,
      }),
    ).rejects.toThrow(/drain warm-up: global deadline reached at 0 settled/);
  });
});
