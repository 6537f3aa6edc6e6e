import type { FaultSettingsInput } from '@notify/mailjet-sandbox';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('retrying Mailjet calls (state, outbound calls, dead letters)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('retries');
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const outcomes = (notification: any) => notification.attempts.map((attempt: any) => attempt.outcome);

  it('When Mailjet fails twice then recovers, then the notification is sent after 3 attempts with one email', async () => {
    harness.sandbox.faults.set({ failNext: 2, status: 503 });
    const message = buildMessage();

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({ status: 'sent', attemptCount: 3 });
    expect(outcomes(notification)).toEqual(['transient_error', 'transient_error', 'sent']);
    expect(notification.attempts.map((attempt: any) => attempt.httpStatus)).toEqual([503, 503, 200]);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    const retries = harness.logs.find('email send failed; retrying').filter((l) => l.trackingId === message.trackingId);
    expect(retries.map((line) => line.attempt)).toEqual([1, 2]);
    expect(retries[0]).toMatchObject({ level: 40, nextDelayMs: 20 });
  });

  it('When Mailjet keeps failing, then after 4 attempts the row is failed, the message dead-lettered and no email sent', async () => {
    harness.sandbox.faults.set({ failNext: 100, status: 500 });
    const message = buildMessage();

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({ status: 'failed', attemptCount: 4 });
    expect(notification.lastError).toMatch(/HTTP 500/);
    expect(outcomes(notification)).toEqual(Array(4).fill('transient_error'));
    const dead = await harness.deadLetter(message.trackingId);
    expect(String(dead.properties.headers?.['x-failure-reason'])).toMatch(/HTTP 500/);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
    const failed = harness.logs.find('email failed').filter((line) => line.trackingId === message.trackingId);
    expect(failed).toEqual([expect.objectContaining({ level: 50, attempts: 4 })]);
  });

  it('When Mailjet refuses the message itself (per-message 400), then it fails after 1 attempt', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const message = buildMessage();
    message.recipient.email = 'someone@fail.example';

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({ status: 'failed', attemptCount: 1 });
    expect(outcomes(notification)).toEqual(['permanent_error']);
    expect(notification.attempts[0].httpStatus).toBe(400);
    const dead = await harness.deadLetter(message.trackingId);
    expect(String(dead.properties.headers?.['x-failure-reason'])).toMatch(/mj-0013/);
    expect(harness.decisions.filter((decision) => decision.trackingId === message.trackingId)).toEqual([
      expect.objectContaining({ kind: 'dead-lettered' }),
    ]);
  });

  it.each<[string, FaultSettingsInput, string | null]>([
    ['a call that hangs past the timeout', { hangNext: 1 }, 'ECONNABORTED'],
    ['a 429', { failNext: 1, status: 429 }, null],
    ['a connection reset', { resetNext: 1 }, 'ECONNRESET'],
  ])('When Mailjet answers %s, then the send is retried and succeeds', async (_kind, faults, errorCode) => {
    harness.sandbox.faults.set(faults);
    const message = buildMessage();

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({ status: 'sent', attemptCount: 2 });
    expect(outcomes(notification)).toEqual(['transient_error', 'sent']);
    if (errorCode) expect(notification.attempts[0].errorCode).toBe(errorCode);
    else expect(notification.attempts[0].httpStatus).toBe(429);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When Mailjet keeps answering 429, then the sends stop at the deadline and the notification fails with the reason', async () => {
    // A 429 costs no retry: only the deadline (1 s here) ends them.
    harness.sandbox.faults.set({ failNext: 1_000, status: 429 });
    const message = buildMessage();

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({
      status: 'failed',
      lastError: expect.stringMatching(/^deadline passed: .*429/),
    });
    expect(notification.attempts.every((attempt: any) => attempt.httpStatus === 429)).toBe(true);
    expect(await harness.deadLetter(message.trackingId)).toBeTruthy();
    expect(harness.emailsFor(message.trackingId)).toHaveLength(0);
  });

  it('When a failed notification is replayed after Mailjet recovers, then it ends sent', async () => {
    harness.sandbox.faults.set({ failNext: 100, status: 502 });
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);
    harness.sandbox.faults.clear();

    const replay = await harness.api(`/notifications/${message.trackingId}/retry`, { method: 'POST' });
    const notification = await harness.settled(message.trackingId, ['sent']);

    expect(replay).toEqual({ status: 202, body: { trackingId: message.trackingId, replay: 'queued' } });
    expect(notification).toMatchObject({ status: 'sent', attemptCount: 5 });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When a sent or unknown notification is replayed, then it answers 409 or 404', async () => {
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);

    const sent = await harness.api(`/notifications/${message.trackingId}/retry`, { method: 'POST' });
    const unknown = await harness.api(`/notifications/${crypto.randomUUID()}/retry`, { method: 'POST' });

    expect(sent.status).toBe(409);
    expect(unknown.status).toBe(404);
  });
});

describe('a provider that throttles for long (state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('retries-throttled', {
      NOTIFICATION_DEADLINE_MS: '60000',
      PROVIDER_THROTTLE_PAUSE_MS: '100',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet answers 429 again and again, then each failed attempt extends the claim, and the send goes through once it stops', async () => {
    harness.sandbox.faults.set({ failNext: 1_000, status: 429 });
    const message = buildMessage();
    const leaseAfter = (attempts: number) =>
      harness.waitFor(async () => {
        const { rows } = await harness.db.query(
          `SELECT attempt_count, lease_expires_at FROM notifications.notifications WHERE tracking_id = $1`,
          [message.trackingId],
        );
        const row = rows[0];
        return row && row.attempt_count >= attempts ? (row.lease_expires_at as Date) : undefined;
      });

    harness.publish(message);
    const afterFirst = await leaseAfter(1);
    const afterThird = await leaseAfter(3);
    harness.sandbox.faults.clear();

    // Free attempts are not bounded by the lease: a claim that did not move would lapse under them.
    expect(afterThird?.getTime()).toBeGreaterThan(afterFirst?.getTime() ?? Number.POSITIVE_INFINITY);
    expect(await harness.settled(message.trackingId)).toMatchObject({ status: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });
});
