import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { sampleValue } from '@notify/test-support/metrics-text.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('sending through SendGrid alone (outbound call, state, logs, metrics)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('sendgrid', { EMAIL_PROVIDERS: 'sendgrid' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it.each(['ticket.added_to_checkout', 'checkout.completed'] as const)(
    'When a %s message arrives, then SendGrid takes one email with the tracking id in custom_args, and the attempt names SendGrid',
    async (operation) => {
      const message = buildMessage(operation);

      harness.publish(message);
      const notification = await harness.settled(message.trackingId);

      expect(notification).toMatchObject({ status: 'sent', attemptCount: 1 });
      const emails = harness.emailsFor(message.trackingId) as any[];
      expect(emails).toHaveLength(1);
      const [email] = emails;
      expect(email).toMatchObject({
        provider: 'sendgrid',
        to: [{ email: message.recipient.email, name: message.recipient.name }],
        custom_args: { trackingId: message.trackingId },
      });
      expect(email.subject).toMatch(
        operation === 'checkout.completed' ? /^Ticket successfully checked out/ : /^Ticket added to checkout/,
      );
      expect(email.content.map((part: { type: string }) => part.type)).toEqual(['text/plain', 'text/html']);
      expect(notification.attempts).toEqual([
        expect.objectContaining({
          provider: 'sendgrid',
          outcome: 'sent',
          httpStatus: 202,
          providerMessageId: email.MessageID,
        }),
      ]);
      expect(notification.providerMessageId).toBe(email.MessageID);
      const sentLine = harness.logs.find('email sent').find((line) => line.trackingId === message.trackingId);
      expect(sentLine).toMatchObject({ provider: 'sendgrid' });
    },
  );

  it('When SendGrid sends, then the metrics and the health answer name SendGrid, not Mailjet', async () => {
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId, ['sent']);

    const metrics = await fetch(`${harness.handler.url}/metrics`).then((response) => response.text());
    const health = await harness.api('/healthz');

    expect(
      sampleValue(metrics, 'notify_provider_calls_total', { provider: 'sendgrid', result: 'sent' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(metrics, 'notify_provider_calls_total', { provider: 'mailjet', result: 'sent' }),
    ).toBeUndefined();
    expect(sampleValue(metrics, 'notify_emails_per_call_sum', { provider: 'sendgrid' })).toBeGreaterThanOrEqual(1);
    expect(health.body).toMatchObject({ breaker: { sendgrid: 'closed' }, pausedBy: [] });
    expect(Object.keys(health.body.breaker)).toEqual(['sendgrid']);
  });

  it('When the recipient’s name holds a comma, then it is still sent (SendGrid refuses one in a display name)', async () => {
    const message = buildMessage();
    message.recipient.name = 'Lovelace, Ada';

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);

    expect(notification.status).toBe('sent');
    expect((harness.emailsFor(message.trackingId)[0] as any).to).toEqual([
      { email: message.recipient.email, name: 'Lovelace Ada' },
    ]);
  });
});

describe('the SendGrid key (logs, attempts, dead letters)', () => {
  const key = `SG.secret-${randomUUID()}`;
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness(
      'sendgrid-key',
      { EMAIL_PROVIDERS: 'sendgrid', SENDGRID_API_KEY: key, RETRY_MAX_RETRIES: '1' },
      { sandboxOptions: { sendgridApiKey: key } },
    );
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When SendGrid calls time out (the client’s errors then carry the key), then the key is in no log line, attempt row or dead letter', async () => {
    harness.sandbox.faults.set({ provider: 'sendgrid', hangNext: 2 });
    const message = buildMessage();

    harness.publish(message);
    const notification = await harness.settled(message.trackingId, ['failed']);
    const deadLetter = await harness.deadLetter(message.trackingId);
    const { rows } = await harness.db.query(
      'SELECT * FROM notifications.notification_attempts WHERE tracking_id = $1',
      [message.trackingId],
    );

    expect(notification.attempts.map((attempt: { errorCode: string }) => attempt.errorCode)).toEqual([
      'ECONNABORTED',
      'ECONNABORTED',
    ]);
    expect(rows).toHaveLength(2);
    expect(harness.logs.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(harness.logs.lines)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(notification)).not.toContain(key);
    expect(deadLetter.content.toString()).not.toContain(key);
    expect(JSON.stringify(deadLetter.properties)).not.toContain(key);
  });
});

describe('SendGrid refusing our key (state, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('sendgrid-401', { EMAIL_PROVIDERS: 'sendgrid', SENDGRID_API_KEY: 'SG.not-the-key' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When SendGrid answers 401, then its breaker opens at once, consumption pauses, and SENDGRID_API_KEY is named once', async () => {
    const [first, second] = [buildMessage(), buildMessage()];

    harness.publish(first);
    harness.publish(second);
    await harness.waitFor(() => (harness.handler.provider.breakerState() !== 'closed' ? true : undefined));
    const health = await harness.api('/healthz');
    await harness.settled(first.trackingId, ['retry_scheduled', 'failed']);

    expect(health.body).toMatchObject({ breaker: { sendgrid: expect.stringMatching(/open|half_open/) } });
    expect(health.body.pausedBy).toEqual(['sendgrid']);
    const named = harness.logs.lines.filter((line) => /SENDGRID_API_KEY/.test(line.msg));
    expect(named).toHaveLength(1);
    expect(named[0]?.level).toBe(50);
    const [attempt] = (await harness.api(`/notifications/${first.trackingId}`)).body.attempts;
    expect(attempt).toMatchObject({ provider: 'sendgrid', httpStatus: 401, outcome: 'transient_error' });
    expect(JSON.stringify(harness.logs.lines)).not.toContain('SG.not-the-key');
  });
});

describe('SendGrid refusing our sender (state, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('sendgrid-403', {
      EMAIL_PROVIDERS: 'sendgrid',
      MAIL_FROM_EMAIL: 'tickets@unverified.example',
      PROVIDER_BREAKER_PROBE_MS: '200',
      NOTIFICATION_DEADLINE_MS: '60000',
      REDELIVERY_DELAYS_MS: '30000',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When SendGrid answers 403 for our sender, then its breaker opens, MAIL_FROM_EMAIL is named once, and once the sender is verified the email is sent', async () => {
    harness.sandbox.faults.set({ refuseSenders: 'unverified.example', provider: 'sendgrid' });
    const message = buildMessage();

    harness.publish(message);
    await harness.waitFor(() => (harness.handler.consumer.pausedBy().includes('sendgrid') ? true : undefined));

    const named = harness.logs.lines.filter((line) => /MAIL_FROM_EMAIL/.test(line.msg));
    expect(named).toHaveLength(1);
    expect(named[0]?.level).toBe(50);
    const [attempt] = (await harness.api(`/notifications/${message.trackingId}`)).body.attempts;
    expect(attempt).toMatchObject({ provider: 'sendgrid', httpStatus: 403, outcome: 'transient_error' });

    harness.sandbox.faults.clear('sendgrid');
    const sent = await harness.settled(message.trackingId, ['sent']);
    expect(sent.attempts.at(-1)).toMatchObject({ provider: 'sendgrid', httpStatus: 202 });
  });
});
