import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('delayed retries through the broker (state, decisions, dead letters)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('redelivery', {
      RETRY_MAX_RETRIES: '1',
      REDELIVERY_DELAYS_MS: '1000,2000',
      NOTIFICATION_DEADLINE_MS: '60000',
    });
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const decisionsFor = (trackingId: string) => harness.decisions.filter((d) => d.trackingId === trackingId);

  it('When Mailjet fails past the immediate retries, then the notification waits retry_scheduled in a delay queue and is sent when it comes back', async () => {
    harness.sandbox.faults.set({ failNext: 2, status: 503 });
    const message = buildMessage();

    harness.publish(message);
    const rescheduled = await harness.decided(message.trackingId, 'rescheduled');
    const waiting = await harness.api(`/notifications/${message.trackingId}`);
    const sent = await harness.settled(message.trackingId, ['sent']);

    expect(rescheduled).toMatchObject({ delayMs: 1000 });
    expect(waiting.body).toMatchObject({
      status: 'retry_scheduled',
      attemptCount: 2,
      lastError: expect.stringMatching(/HTTP 503/),
    });
    expect(Date.parse(waiting.body.nextAttemptAt)).toBeGreaterThan(Date.parse(waiting.body.updatedAt));
    expect(sent).toMatchObject({ status: 'sent', attemptCount: 3, nextAttemptAt: null });
    expect(sent.attempts.map((attempt: { outcome: string }) => attempt.outcome)).toEqual([
      'transient_error',
      'transient_error',
      'sent',
    ]);
    expect(decisionsFor(message.trackingId).map((d) => d.kind)).toEqual(['rescheduled', 'acked']);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When it fails on two deliveries, then each wait comes from the schedule in turn', async () => {
    harness.sandbox.faults.set({ failNext: 4, status: 500 });
    const message = buildMessage();

    harness.publish(message);
    await harness.settled(message.trackingId, ['sent']);

    const waits = decisionsFor(message.trackingId).flatMap((d) => (d.kind === 'rescheduled' ? [d.delayMs] : []));
    expect(waits).toEqual([1000, 2000]);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When the next wait would pass the deadline, then the notification fails and is dead-lettered with the reason', async () => {
    harness.sandbox.faults.set({ failNext: 2, status: 503 });
    const message = buildMessage();
    message.occurredAt = new Date(Date.now() - 59_500).toISOString();

    harness.publish(message);
    const failed = await harness.settled(message.trackingId, ['failed']);
    const dead = await harness.deadLetter(message.trackingId);

    expect(failed).toMatchObject({ attemptCount: 2, lastError: expect.stringMatching(/^deadline passed: HTTP 503/) });
    expect(String(dead.properties.headers?.['x-failure-reason'])).toMatch(/^deadline passed: HTTP 503/);
    expect(decisionsFor(message.trackingId).map((d) => d.kind)).toEqual(['dead-lettered']);
  });

  it('When Mailjet refuses the message itself, then it fails at once without a delayed retry', async () => {
    harness.sandbox.faults.set({ failRecipients: 'refused.example' });
    const message = buildMessage();
    message.recipient.email = 'someone@refused.example';

    harness.publish(message);
    await harness.decided(message.trackingId, 'dead-lettered');

    expect(decisionsFor(message.trackingId).map((d) => d.kind)).toEqual(['dead-lettered']);
    expect((await harness.api(`/notifications/${message.trackingId}`)).body).toMatchObject({
      status: 'failed',
      attemptCount: 1,
    });
  });
});
