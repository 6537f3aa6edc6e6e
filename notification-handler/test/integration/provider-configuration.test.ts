import { startSandbox } from '@notify/mailjet-sandbox';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startNotificationHandler } from '../../src/start-handler.js';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('Mailjet configuration (logs and state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('provider-config', { MAILJET_API_SECRET: 'not-the-secret' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet refuses our credentials, then sends fail at once and the configuration error is logged once', async () => {
    const first = buildMessage();
    const second = buildMessage();

    harness.publish(first);
    harness.publish(second);
    const settled = [await harness.settled(first.trackingId), await harness.settled(second.trackingId)];

    for (const notification of settled) {
      expect(notification).toMatchObject({ status: 'failed', attemptCount: 1 });
      expect(notification.attempts[0].httpStatus).toBe(401);
    }
    const configurationErrors = harness.logs.lines.filter((line) => /MAILJET_API_KEY/.test(line.msg));
    expect(configurationErrors).toHaveLength(1);
    expect(configurationErrors[0]?.level).toBe(50);
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
