import { startSandbox } from '@notify/mailjet-sandbox';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startNotificationHandler } from '../../src/start-handler.js';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('A sender Mailjet has not validated (logs, state, outbound calls)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('provider-sender', {
      MAIL_FROM_EMAIL: 'tickets@unvalidated.example',
      PROVIDER_BREAKER_PROBE_MS: '200',
      NOTIFICATION_DEADLINE_MS: '60000',
      REDELIVERY_DELAYS_MS: '30000',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet refuses our sender (403), then nothing fails: consumption pauses, MAIL_FROM_EMAIL is named once, and once the sender is validated every notification is sent', async () => {
    harness.sandbox.faults.set({ refuseSenders: 'unvalidated.example' });
    const messages = [buildMessage(), buildMessage()];
    for (const message of messages) harness.publish(message);

    await harness.waitFor(() => (harness.handler.consumer.pausedBy().includes('mailjet') ? true : undefined));
    const callsWhenPaused = harness.sandbox.stats.current('mailjet').calls.total;
    await harness.waitFor(() =>
      harness.sandbox.stats.current('mailjet').calls.total >= callsWhenPaused + 2 ? true : undefined,
    );
    const { body: waiting } = await harness.api(`/notifications/${messages[0]?.trackingId}`);
    expect(waiting.status).toBe('in_progress');
    expect(waiting.attempts.length).toBeGreaterThan(0);
    for (const attempt of waiting.attempts) expect(attempt).toMatchObject({ httpStatus: 403, provider: 'mailjet' });
    expect(harness.decisions.filter((decision) => decision.kind !== 'acked')).toEqual([]);
    const senderErrors = harness.logs.lines.filter((line) => /MAIL_FROM_EMAIL/.test(line.msg));
    expect(senderErrors).toHaveLength(1);
    expect(senderErrors[0]?.level).toBe(50);

    // Validating the sender happens in the account: the probes find it, no restart needed.
    harness.sandbox.faults.clear();
    for (const message of messages) {
      const sent = await harness.settled(message.trackingId, ['sent']);
      expect(sent.attempts.at(-1)).toMatchObject({ httpStatus: 200, provider: 'mailjet' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    }
  });
});

describe('Mailjet configuration (logs, state, outbound calls)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('provider-config', {
      MAILJET_API_SECRET: 'not-the-secret',
      PROVIDER_BREAKER_PROBE_MS: '200',
      NOTIFICATION_DEADLINE_MS: '60000',
      REDELIVERY_DELAYS_MS: '30000',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet refuses our credentials, then nothing fails: consumption pauses and probes, the error is logged once, and after a restart with the right secret every notification is sent', async () => {
    const messages = [buildMessage(), buildMessage()];
    for (const message of messages) harness.publish(message);

    await harness.waitFor(() => (harness.handler.consumer.pausedBy().includes('mailjet') ? true : undefined));
    const callsWhenPaused = harness.sandbox.stats.current('mailjet').calls.total;
    await harness.waitFor(() =>
      harness.sandbox.stats.current('mailjet').calls.total >= callsWhenPaused + 2 ? true : undefined,
    );
    const { body: waiting } = await harness.api(`/notifications/${messages[0]?.trackingId}`);
    expect(waiting.status).toBe('in_progress');
    expect(waiting.attempts.length).toBeGreaterThan(0);
    for (const attempt of waiting.attempts) expect(attempt).toMatchObject({ httpStatus: 401, provider: 'mailjet' });
    expect(harness.decisions.filter((decision) => decision.kind !== 'acked')).toEqual([]);
    const configurationErrors = harness.logs.lines.filter((line) => /MAILJET_API_KEY/.test(line.msg));
    expect(configurationErrors).toHaveLength(1);
    expect(configurationErrors[0]?.level).toBe(50);

    await harness.stopHandler();
    await harness.restartHandler({ MAILJET_API_SECRET: harness.sandbox.apiSecret });
    for (const message of messages) {
      const sent = await harness.settled(message.trackingId, ['sent']);
      expect(sent.attempts.at(-1)).toMatchObject({ httpStatus: 200, provider: 'mailjet' });
      expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    }
    expect(JSON.stringify(harness.logs.lines)).not.toContain('not-the-secret');
  });

  it('When no Mailjet key is set, then the start says loudly that no real email leaves the machine', async () => {
    const sandbox = await startSandbox({ port: 0 });
    const logs = captureLogs();
    const config = loadConfig({
      AMQP_URL: inject('amqpUrl'),
      DATABASE_URL: inject('databaseUrl'),
      PORT: '0',
      TOPOLOGY_PREFIX: harness.config.TOPOLOGY_PREFIX,
      MAILJET_API_URL: sandbox.url,
    });

    const handler = await startNotificationHandler(config, logs.log);
    await handler.stop();
    await sandbox.stop();

    const warning = logs.lines.find((line) => /No real email leaves this machine/.test(line.msg));
    expect(warning).toMatchObject({ level: 40, mailjetApiUrl: sandbox.url });
  });
});
