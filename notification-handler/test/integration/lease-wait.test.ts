import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNotification } from '../../src/db/notification-queries.js';
import { claimNotifications, settleNotifications } from '../../src/db/notification-repository.js';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('a redelivery waiting on another handler (state and decisions)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('lease-wait', { LEASE_POLL_MS: '100' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** A row another handler claimed a moment ago, with `leaseSeconds` of lease left. */
  async function claimedElsewhere(message: ReturnType<typeof buildMessage>, leaseSeconds = 600) {
    await harness.db.query(
      `INSERT INTO notifications.notifications
         (tracking_id, operation, recipient_email, recipient_name, request, status, lease_expires_at, occurred_at)
       VALUES ($1, $2, $3, $4, $5, 'in_progress', now() + make_interval(secs => $7), $6)`,
      [
        message.trackingId,
        message.operation,
        message.recipient.email,
        message.recipient.name,
        message,
        message.occurredAt,
        leaseSeconds,
      ],
    );
  }

  it('When the other handler settles the row, then the waiting delivery stops waiting at once and is acked as a duplicate', async () => {
    const message = buildMessage();
    await claimedElsewhere(message);

    harness.publish(message);
    await harness.waitFor(() => (harness.handler.consumer.inFlightCount() > 0 ? true : undefined));
    await harness.db.query(
      `UPDATE notifications.notifications SET status = 'sent', sent_at = now() WHERE tracking_id = $1`,
      [message.trackingId],
    );

    // Ten minutes of lease were left: an answer within seconds means it looked again, not waited.
    expect(await harness.decided(message.trackingId, 'acked', 5_000)).toMatchObject({ outcome: 'duplicate' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
  });

  it('When the other handler died (its lease runs out), then the waiting delivery takes the row over and sends', async () => {
    const message = buildMessage();
    await claimedElsewhere(message, 1);

    harness.publish(message);

    expect(await harness.decided(message.trackingId, 'acked', 10_000)).toMatchObject({ outcome: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When a claim lapsed and another delivery took the row over, then the first one’s late settlement changes nothing, and the second one’s stands', async () => {
    const message = buildMessage();
    const [stale, current] = [randomUUID(), randomUUID()];
    const settle = (claimToken: string, status: 'sent' | 'failed', number: number) =>
      settleNotifications(
        harness.db,
        [
          {
            trackingId: message.trackingId,
            claimToken,
            status,
            lastError: status === 'failed' ? 'refused' : undefined,
            attempt: {
              number,
              startedAt: new Date(),
              finishedAt: new Date(),
              outcome: status === 'sent' ? 'sent' : 'permanent_error',
            },
          },
        ],
        60_000,
      );
    // A lease of 1 ms: it has run out by the time the second claim comes.
    await claimNotifications(harness.db, [{ message, replay: false, claimToken: stale }], 1);
    await harness.waitFor(async () => {
      const { rows } = await harness.db.query(
        'SELECT lease_expires_at < now() AS lapsed FROM notifications.notifications WHERE tracking_id = $1',
        [message.trackingId],
      );
      return rows[0]?.lapsed ? true : undefined;
    });
    const [takeover] = await claimNotifications(harness.db, [{ message, replay: false, claimToken: current }], 60_000);

    await settle(stale, 'failed', 1);
    await settle(current, 'sent', 2);

    expect(takeover).toMatchObject({ kind: 'claimed' });
    const { rows } = await harness.db.query(
      'SELECT status, last_error FROM notifications.notifications WHERE tracking_id = $1',
      [message.trackingId],
    );
    expect(rows[0]).toEqual({ status: 'sent', last_error: null });
  });

  it('When a claim lapsed and another delivery took the row over, then the first one’s late attempt takes no number from the second one’s attempts', async () => {
    const message = buildMessage();
    const [stale, current] = [randomUUID(), randomUUID()];
    await claimNotifications(harness.db, [{ message, replay: false, claimToken: stale }], 1);
    await harness.waitFor(async () => {
      const { rows } = await harness.db.query(
        'SELECT lease_expires_at < now() AS lapsed FROM notifications.notifications WHERE tracking_id = $1',
        [message.trackingId],
      );
      return rows[0]?.lapsed ? true : undefined;
    });
    const [takeover] = await claimNotifications(harness.db, [{ message, replay: false, claimToken: current }], 60_000);
    expect(takeover).toEqual({ kind: 'claimed', previousAttempts: 0 });
    // Each delivery numbers its calls on from the attempts it was told of: both call theirs 1.
    const attempt = (outcome: 'sent' | 'transient_error', provider: string) => ({
      number: 1,
      startedAt: new Date(),
      finishedAt: new Date(),
      outcome,
      provider,
      ...(outcome === 'sent' ? { providerMessageId: 'msg-current' } : { message: 'timed out' }),
    });

    // The stale delivery's call comes back after the takeover: a failure, recorded with a retry to follow.
    await settleNotifications(
      harness.db,
      [
        {
          trackingId: message.trackingId,
          claimToken: stale,
          status: 'in_progress',
          attempt: attempt('transient_error', 'sendgrid'),
        },
      ],
      60_000,
    );
    await settleNotifications(
      harness.db,
      [{ trackingId: message.trackingId, claimToken: current, status: 'sent', attempt: attempt('sent', 'mailjet') }],
      60_000,
    );

    const notification = await findNotification(harness.db, message.trackingId);
    expect(notification).toMatchObject({ status: 'sent', attemptCount: 1, providerMessageId: 'msg-current' });
    expect(notification?.attempts).toEqual([
      expect.objectContaining({ number: 1, outcome: 'sent', provider: 'mailjet', providerMessageId: 'msg-current' }),
    ]);
  });

  it('When a claim runs again after its first answer was lost, then it finds the row its own and holds it, while another claim still waits', async () => {
    const message = buildMessage();
    const token = randomUUID();
    // The first run committed; its answer never came back (the connection dropped).
    await claimNotifications(harness.db, [{ message, replay: false, claimToken: token }], 600_000);

    const [again] = await claimNotifications(harness.db, [{ message, replay: false, claimToken: token }], 600_000);
    const [other] = await claimNotifications(
      harness.db,
      [{ message, replay: false, claimToken: randomUUID() }],
      600_000,
    );

    expect(again).toEqual({ kind: 'claimed', previousAttempts: 0 });
    expect(other).toMatchObject({ kind: 'busy' });
  });

  it('When a claim runs again after a database outage took its first answer, then the row gets a whole lease from the second run', async () => {
    const message = buildMessage();
    const token = randomUUID();
    const leaseMs = 600_000;
    await claimNotifications(harness.db, [{ message, replay: false, claimToken: token }], leaseMs);
    // The outage lasted most of the lease the first run took: a few seconds of it are left.
    await harness.db.query(
      `UPDATE notifications.notifications SET lease_expires_at = now() + interval '3 seconds' WHERE tracking_id = $1`,
      [message.trackingId],
    );

    const [again] = await claimNotifications(harness.db, [{ message, replay: false, claimToken: token }], leaseMs);
    const { rows } = await harness.db.query<{ left_ms: number }>(
      `SELECT EXTRACT(EPOCH FROM lease_expires_at - now()) * 1000 AS left_ms
       FROM notifications.notifications WHERE tracking_id = $1`,
      [message.trackingId],
    );

    expect(again).toEqual({ kind: 'claimed', previousAttempts: 0 });
    // The delivery counts on a whole lease from its claim (the longest send it may make): with a
    // few seconds, another delivery of the same message could take the row over mid-send and send too.
    expect(Number(rows[0]?.left_ms)).toBeGreaterThan(leaseMs - 60_000);
  });
});
