import { describe, expect, it } from 'vitest';
import { readProgress, waitForSettled } from '../../lib/pipeline.js';
import { useRunDatabase } from './run-database.js';

describe('the bench reading its run’s progress', () => {
  const database = useRunDatabase('bench_progress');

  /** Notifications of the run, one per status given. */
  async function notifications(...statuses: string[]): Promise<string[]> {
    const { rows } = await database.db.query<{ tracking_id: string }>(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at)
       SELECT gen_random_uuid(), 'checkout.completed', 'buyer@example.com', 'Buyer', '{}', status, now(), now()
       FROM unnest($1::text[]) AS status
       RETURNING tracking_id`,
      [statuses],
    );
    return rows.map((row) => row.tracking_id);
  }

  async function outboxRows(published: boolean[]): Promise<void> {
    await database.db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties, published_at)
       SELECT gen_random_uuid(), 'bench.test', 'checkout.completed', '\\x00', '{}', CASE WHEN p THEN now() END
       FROM unnest($1::boolean[]) AS p`,
      [published],
    );
  }

  it('When the run has rows in every state beside a history, then each figure counts the run’s rows alone', async () => {
    await notifications('sent', 'sent', 'failed', 'in_progress', 'retry_scheduled');
    await outboxRows([true, true, true, false]);

    expect(await readProgress(database.db, database.run)).toEqual({
      sent: 2,
      failed: 1,
      total: 5,
      outbox: 4,
      published: 3,
    });
  });

  it('When the outbox is known to be done, then the outbox is not read again and the notifications are', async () => {
    const before = await readProgress(database.db, database.run);
    await outboxRows([false]);
    await notifications('sent');

    const progress = await readProgress(database.db, database.run, { outbox: 99, published: 98 });

    expect(progress).toEqual({ ...before, sent: before.sent + 1, total: before.total + 1, outbox: 99, published: 98 });
  });

  it('When the last notifications settle while the bench waits, then the wait ends complete with their counts', async () => {
    const start = await readProgress(database.db, database.run);
    const [late] = await notifications('in_progress');
    await database.db.query(`UPDATE ticketing.outbox SET published_at = now() WHERE published_at IS NULL`);
    const expected = start.sent + start.failed + 1;
    const settling = new Promise((resolve) => setTimeout(resolve, 600)).then(() =>
      database.db.query(`UPDATE notifications.notifications SET status = 'sent' WHERE tracking_id = $1`, [late]),
    );

    const settled = await waitForSettled(database.db, expected, {
      deadline: Date.now() + 10_000,
      stallMs: 5_000,
      run: database.run,
    });
    await settling;

    expect(settled).toMatchObject({ complete: true, reason: 'all settled' });
    expect(settled.progress.sent + settled.progress.failed).toBe(expected);
  });
});
