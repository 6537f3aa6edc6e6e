import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
