import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimNotifications, settleNotifications } from '../../src/db/notification-repository.js';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('a provider’s text in a settlement (state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('settlement-text');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When a reason holds half an emoji (a page cut short) and a NUL, then the batch is still recorded, those characters replaced', async () => {
    const [cut, plain] = [buildMessage(), buildMessage()];
    const claimToken = randomUUID();
    await claimNotifications(
      harness.db,
      [cut, plain].map((message) => ({ message, replay: false, claimToken })),
      60_000,
    );
    const startedAt = new Date();
    const attempt = (message: string) => ({
      number: 1,
      startedAt,
      finishedAt: new Date(),
      outcome: 'transient_error' as const,
      httpStatus: 502,
      message,
    });

    await settleNotifications(
      harness.db,
      [
        {
          trackingId: cut.trackingId,
          claimToken,
          status: 'in_progress',
          attempt: attempt('Bad gateway \ud83d\u0000...'),
        },
        { trackingId: plain.trackingId, claimToken, status: 'in_progress', attempt: attempt('Bad gateway 🙂') },
      ],
      60_000,
    );

    const { rows } = await harness.db.query<{ tracking_id: string; message: string; last_error: string }>(
      `SELECT a.tracking_id, a.message, n.last_error
         FROM notifications.notification_attempts a JOIN notifications.notifications n USING (tracking_id)
        WHERE a.tracking_id = ANY($1::uuid[])`,
      [[cut.trackingId, plain.trackingId]],
    );
    const byId = new Map(rows.map((row) => [row.tracking_id, row]));
    expect(byId.get(cut.trackingId)).toMatchObject({
      message: 'Bad gateway \ufffd\ufffd...',
      last_error: 'Bad gateway \ufffd\ufffd...',
    });
    expect(byId.get(plain.trackingId)).toMatchObject({ message: 'Bad gateway 🙂' });
  });
});
