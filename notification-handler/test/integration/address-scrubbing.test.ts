import { randomUUID } from 'node:crypto';
import { maskEmail } from '@notify/shared/platform';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

/** An address no other test uses, so that a hit anywhere in the logs is this test's. */
const uniqueAddress = (domain: string) => `z${randomUUID().slice(0, 8)}@${domain}`;

describe('no address in clear outside the recipient field (state, dead letters, logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('scrubbing');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const logText = () => harness.logs.lines.map((line) => JSON.stringify(line)).join('\n');

  it('When Mailjet refuses the recipient and quotes the address, then the attempts, lastError, dead letter and logs show it masked only', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const address = uniqueAddress('fail.example');
    const message = buildMessage();
    message.recipient.email = address;

    harness.publish(message);
    const notification = await harness.settled(message.trackingId);
    const deadLetter = await harness.deadLetter(message.trackingId);
    harness.sandbox.faults.clear();

    const masked = maskEmail(address);
    expect(notification).toMatchObject({ status: 'failed', recipient: { email: address } });
    expect(notification.lastError).toBe(`mj-0013: "${masked}" is an invalid email address. (To[0].Email)`);
    expect(notification.attempts).toHaveLength(1);
    expect(notification.attempts[0].message).toBe(notification.lastError);
    const reason = String(deadLetter.properties.headers?.['x-failure-reason']);
    expect(reason).toContain(masked);
    expect(reason).not.toContain(address);
    expect(logText()).toContain(masked);
    expect(logText()).not.toContain(address);
  });

  it('When a message that does not decode quotes an address, then its dead-letter reason and log line show it masked only', async () => {
    const address = uniqueAddress('example.com');
    const id = randomUUID();

    harness.publishRaw('checkout.completed', Buffer.from(JSON.stringify({ schemaVersion: address })), {
      contentType: 'application/json',
      messageId: id,
    });
    const deadLetter = await harness.deadLetter(id);

    const reason = String(deadLetter.properties.headers?.['x-failure-reason']);
    expect(reason).toContain(`schemaVersion "${maskEmail(address)}" is not understood`);
    await harness.decided(id, 'dead-lettered');
    expect(logText()).toContain(maskEmail(address));
    expect(logText()).not.toContain(address);
  });
});
