import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('readiness under load', () => {
  let harness: Harness;

  beforeAll(async () => {
    // A database of its own: the test locks the notifications table.
    harness = await startHarness('readiness', { DATABASE_POOL_SIZE: '2' }, { ownDatabase: true });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it("When every connection of the handler's pool waits on a statement, then /readyz still answers 200 with the database up", async () => {
    const locker = await harness.db.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE notifications.notifications IN ACCESS EXCLUSIVE MODE');
    // Status reads queue behind the lock, each holding one of the pool's two connections.
    const blockedReads = [1, 2].map(() => harness.api(`/notifications/${randomUUID()}`).catch(() => undefined));
    try {
      await harness.waitFor(async () => {
        // Not on the locker: inside its transaction, pg_stat_activity would show one snapshot.
        const { rows } = await harness.db.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0]?.waiting === 2 ? true : undefined;
      });

      const readiness = await harness.api('/readyz');

      expect(readiness.status).toBe(200);
      expect(readiness.body).toMatchObject({ status: 'ready', database: 'up' });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
      await Promise.all(blockedReads);
    }
  });
});
