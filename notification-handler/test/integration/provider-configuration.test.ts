import { startSandbox } from '@notify/mailjet-sandbox';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startNotificationHandler } from '../../src/start-handler.js';
import { type Harness, startHarness } from './support/handler-harness.js';

/**
 * Publishes two notifications to a handler whose Mailjet refuses its configuration (`httpStatus`)
 * and checks that nothing fails: consumption pauses and probes, each attempt so far is that refusal,
 * and one error line names the setting to check. Gives the notifications, waiting.
 */
async function pausedByRefusal(harness: Harness, httpStatus: number, setting: RegExp) {
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
  for (const attempt of waiting.attempts) expect(attempt).toMatchObject({ httpStatus, provider: 'mailjet' });
  expect(harness.decisions.filter((decision) => decision.kind !== 'acked')).toEqual([]);
  const named = harness.logs.lines.filter((line) => setting.test(line.msg));
  expect(named).toHaveLength(1);
  expect(named[0]?.level).toBe(50);
  return messages;
}

/** Each of them ends sent, once, its last attempt Mailjet's 200. */
async function expectSentOnce(harness: Harness, messages: ReturnType<typeof buildMessage>[]) {
  for (const message of messages) {
    const sent = await harness.settled(message.trackingId, ['sent']);
    expect(sent.attempts.at(-1)).toMatchObject({ httpStatus: 200, provider: 'mailjet' });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  }
}

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

    const messages = await pausedByRefusal(harness, 403, /MAIL_FROM_EMAIL/);

    // Validating the sender happens in the account: the probes find it, no restart needed.
    harness.sandbox.faults.clear();
    await expectSentOnce(harness, messages);
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
    const messages = await pausedByRefusal(harness, 401, /MAILJET_API_KEY/);

    await harness.stopHandler();
    await harness.restartHandler({ MAILJET_API_SECRET: harness.sandbox.apiSecret });
    await expectSentOnce(harness, messages);
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
