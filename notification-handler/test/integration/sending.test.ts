import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('sending notifications (outbound call and state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('sending');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it.each(['ticket.added_to_checkout', 'checkout.completed'] as const)(
    'When a %s message arrives, then it ends sent with exactly one email in Mailjet',
    async (operation) => {
      const message = buildMessage(operation);

      harness.publish(message);
      const notification = await harness.settled(message.trackingId);

      expect(notification).toMatchObject({
        trackingId: message.trackingId,
        operation,
        status: 'sent',
        attemptCount: 1,
        recipient: message.recipient,
      });
      const emails = harness.emailsFor(message.trackingId);
      expect(emails).toHaveLength(1);
      const [email] = emails as any[];
      expect(email.To).toEqual([{ Email: message.recipient.email, Name: message.recipient.name }]);
      expect(email.Subject).toMatch(
        operation === 'checkout.completed' ? /^Ticket successfully checked out/ : /^Ticket added to checkout/,
      );
      expect(email.TextPart).toContain('Spring Jazz Night');
      expect(email.HTMLPart).toContain('<table>');
      expect(email.CustomID).toBe(message.trackingId);
      expect(notification.providerMessageId).toBe(email.MessageID);
    },
  );

  it('When a producer writes the tracking id in capitals, then it is sent once and found under the id in either case', async () => {
    const message = buildMessage();
    const capitals = message.trackingId.toUpperCase();

    harness.publishRaw(message.operation, Buffer.from(JSON.stringify({ ...message, trackingId: capitals })), {
      contentType: 'application/json',
      messageId: capitals,
      type: message.operation,
      persistent: true,
    });
    const notification = await harness.settled(capitals);

    expect(notification).toMatchObject({ trackingId: message.trackingId, status: 'sent', attemptCount: 1 });
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
    expect(await harness.decided(message.trackingId, 'acked')).toBeDefined();
  });

  const outcomesOf = (trackingId: string) =>
    harness.decisions.flatMap((decision) =>
      decision.kind === 'acked' && decision.trackingId === trackingId ? [decision.outcome] : [],
    );

  it('When the same message is delivered twice, then one email is sent and the second delivery is acked as a duplicate', async () => {
    const message = buildMessage();

    harness.publish(message);
    await harness.decided(message.trackingId, 'acked');
    harness.publish(message);
    await harness.waitFor(() => (outcomesOf(message.trackingId).length === 2 ? true : undefined));

    expect(outcomesOf(message.trackingId)).toEqual(['sent', 'duplicate']);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When two copies of a message arrive together, then one email is sent and the other copy is a duplicate', async () => {
    const message = buildMessage();

    harness.publish(message);
    harness.publish(message);
    await harness.waitFor(() => (outcomesOf(message.trackingId).length === 2 ? true : undefined));

    expect(outcomesOf(message.trackingId).sort()).toEqual(['duplicate', 'sent']);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });

  it('When the customer name carries a script tag, then the HTML part has it escaped', async () => {
    const message = buildMessage('ticket.added_to_checkout');
    message.recipient.name = '<script>alert(1)</script>';

    harness.publish(message);
    await harness.settled(message.trackingId);

    const [email] = harness.emailsFor(message.trackingId) as any[];
    expect(email.HTMLPart).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.HTMLPart).not.toContain('<script>');
  });

  it('When an email is sent, then one console line says so without the full address', async () => {
    const message = buildMessage();

    harness.publish(message);
    await harness.settled(message.trackingId);

    const lines = harness.logs.find('email sent').filter((line) => line.trackingId === message.trackingId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, operation: message.operation, attempts: 1 });
    expect(lines[0]?.durationMs).toEqual(expect.any(Number));
    expect(JSON.stringify(harness.logs.lines)).not.toContain(message.recipient.email);
  });

  it('When many messages are handled on one connection, then none of them makes a composite abort signal (Node 20 keeps each one)', async () => {
    // A per-message AbortSignal.any left a WeakRef behind in the shutdown signal: 100 MiB an hour at 400/s.
    const any = vi.spyOn(AbortSignal, 'any');
    try {
      const messages = Array.from({ length: 40 }, () => buildMessage());
      for (const message of messages) harness.publish(message);
      for (const message of messages) expect((await harness.settled(message.trackingId)).status).toBe('sent');

      expect(any).not.toHaveBeenCalled();
    } finally {
      any.mockRestore();
    }
  });
});
