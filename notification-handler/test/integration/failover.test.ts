import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

type Attempt = { provider: string; outcome: string; httpStatus: number | null };

const providersOf = (emails: unknown[]) => emails.map((email) => (email as { provider: string }).provider);

describe('failover from Mailjet to SendGrid (outbound calls, state, health)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('failover', {
      EMAIL_PROVIDERS: 'mailjet,sendgrid',
      PROVIDER_BREAKER_FAILURES: '2',
      PROVIDER_BREAKER_PROBE_MS: '300',
      // Enough for two failed calls on each provider, with a call left once one answers again.
      RETRY_MAX_RETRIES: '6',
      NOTIFICATION_DEADLINE_MS: '60000',
      REDELIVERY_DELAYS_MS: '30000',
    });
  });
  afterEach(() => {
    harness.sandbox.faults.clear();
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** Publishes a notification and waits until it is sent; gives it with its attempts and emails. */
  const sendOne = async () => {
    const message = buildMessage();
    harness.publish(message);
    const notification = await harness.settled(message.trackingId, ['sent']);
    return { message, attempts: notification.attempts as Attempt[], emails: harness.emailsFor(message.trackingId) };
  };

  it('When Mailjet keeps failing, then SendGrid sends without pausing consumption, Mailjet still gets probes, and emails go back to Mailjet once it answers', async () => {
    harness.sandbox.faults.set({ provider: 'mailjet', failRate: 1, status: 503 });

    const first = await sendOne();
    const duringOutage = [await sendOne(), await sendOne()];
    const health = await harness.api('/healthz');
    const probesBefore = harness.sandbox.stats.current('mailjet').calls.total;
    await harness.waitFor(() => {
      harness.publish(buildMessage());
      return harness.sandbox.stats.current('mailjet').calls.total > probesBefore ? true : undefined;
    });

    harness.sandbox.faults.clear('mailjet');
    await harness.waitFor(async () => {
      const { emails } = await sendOne();
      return providersOf(emails).includes('mailjet') ? true : undefined;
    });
    const afterRecovery = await sendOne();

    // The first one failed on Mailjet until its breaker opened (a due probe may have failed too),
    // then went to SendGrid; the others may have carried a failed probe before SendGrid sent them.
    expect(first.attempts.slice(0, 2).map((attempt) => [attempt.provider, attempt.httpStatus])).toEqual([
      ['mailjet', 503],
      ['mailjet', 503],
    ]);
    for (const { emails, attempts } of [first, ...duringOutage]) {
      expect(providersOf(emails)).toEqual(['sendgrid']);
      expect(attempts.at(-1)).toMatchObject({ provider: 'sendgrid', outcome: 'sent', httpStatus: 202 });
      const before = attempts.slice(0, -1);
      expect(before.every((attempt) => attempt.provider === 'mailjet' && attempt.httpStatus === 503)).toBe(true);
    }
    expect(health.body).toMatchObject({
      breaker: { mailjet: expect.stringMatching(/open|half_open/), sendgrid: 'closed' },
    });
    expect(health.body.pausedBy).toEqual([]);
    // Once when it opened, and again after each failed probe.
    expect(harness.logs.find('provider breaker open: failing over, probing').length).toBeGreaterThanOrEqual(1);
    expect(harness.logs.find('every provider breaker open: pausing consumption, probing')).toEqual([]);
    expect(providersOf(afterRecovery.emails)).toEqual(['mailjet']);
    expect(afterRecovery.attempts).toEqual([expect.objectContaining({ provider: 'mailjet', outcome: 'sent' })]);
    expect(harness.handler.provider.breakerStates()).toEqual({ mailjet: 'closed', sendgrid: 'closed' });
  });

  it('When Mailjet refuses an address for good, then the notification fails and SendGrid is never asked', async () => {
    harness.sandbox.faults.set({ provider: 'mailjet', failRecipients: 'refused.example' });
    const sendGridCallsBefore = harness.sandbox.stats.current('sendgrid').calls.total;
    const message = buildMessage();
    message.recipient.email = 'someone@refused.example';

    harness.publish(message);
    const notification = await harness.settled(message.trackingId, ['failed']);

    expect(notification.attempts).toEqual([
      expect.objectContaining({ provider: 'mailjet', outcome: 'permanent_error', httpStatus: 400 }),
    ]);
    expect(harness.emailsFor(message.trackingId)).toEqual([]);
    expect(harness.sandbox.stats.current('sendgrid').calls.total).toBe(sendGridCallsBefore);
  });

  it('When both providers fail, then consumption pauses for both, and resumes when one answers again', async () => {
    harness.sandbox.faults.set({ failRate: 1, status: 503 });
    const message = buildMessage();

    harness.publish(message);
    await harness.waitFor(() => (harness.handler.consumer.pausedBy().length === 2 ? true : undefined));
    const paused = harness.handler.consumer.pausedBy();
    harness.sandbox.faults.clear('sendgrid');
    const notification = await harness.settled(message.trackingId, ['sent']);

    expect(paused).toEqual(['mailjet', 'sendgrid']);
    expect(notification.attempts.at(-1)).toMatchObject({ provider: 'sendgrid', outcome: 'sent' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    await harness.waitFor(() => (harness.handler.consumer.pausedBy().length === 0 ? true : undefined));
  });
});

describe('failover when the primary refuses our key (state, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('failover-401', {
      EMAIL_PROVIDERS: 'sendgrid,mailjet',
      SENDGRID_API_KEY: 'SG.not-the-key',
      PROVIDER_BREAKER_PROBE_MS: '60000',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When SendGrid answers 401, then its breaker opens on that one call and Mailjet sends, without a retry spent', async () => {
    const [first, second] = [buildMessage(), buildMessage()];

    harness.publish(first);
    const sentFirst = await harness.settled(first.trackingId, ['sent']);
    harness.publish(second);
    const sentSecond = await harness.settled(second.trackingId, ['sent']);

    expect(sentFirst.attempts.map((attempt: Attempt) => [attempt.provider, attempt.httpStatus])).toEqual([
      ['sendgrid', 401],
      ['mailjet', 200],
    ]);
    expect(sentSecond.attempts.map((attempt: Attempt) => attempt.provider)).toEqual(['mailjet']);
    expect(harness.handler.provider.breakerStates()).toEqual({ sendgrid: 'open', mailjet: 'closed' });
    expect(harness.handler.consumer.pausedBy()).toEqual([]);
    expect(harness.logs.lines.filter((line) => /SENDGRID_API_KEY/.test(line.msg))).toHaveLength(1);
    expect(providersOf(harness.emailsFor(first.trackingId))).toEqual(['mailjet']);
  });
});
