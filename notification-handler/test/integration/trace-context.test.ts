import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('trace context (status API and logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('trace');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const linesAbout = (trackingId: string) => harness.logs.lines.filter((line) => line.trackingId === trackingId);

  it('When a message carries a traceparent, then the status API shows its trace id and every log line about it carries it', async () => {
    // One failed call first, so that the retry's warn line is there to check too.
    harness.sandbox.faults.set({ failNext: 1, status: 500 });
    const message = buildMessage();

    harness.publish(message, { traceparent: TRACEPARENT });
    const notification = await harness.settled(message.trackingId);
    harness.sandbox.faults.clear();

    expect(notification).toMatchObject({ status: 'sent', attemptCount: 2, traceId: TRACE_ID });
    const lines = linesAbout(message.trackingId);
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['email send failed; retrying', 'email sent']),
    );
    for (const line of lines) expect(line).toMatchObject({ traceId: TRACE_ID });
  });

  it.each([
    ['no traceparent', {}],
    ['a malformed traceparent', { traceparent: `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01` }],
  ])('When a message carries %s, then its trace id is null and its log lines have none', async (_kind, options) => {
    const message = buildMessage();

    harness.publish(message, options);
    const notification = await harness.settled(message.trackingId);

    expect(notification).toMatchObject({ status: 'sent', traceId: null });
    const lines = linesAbout(message.trackingId);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toHaveProperty('traceId');
  });

  it('When a message that does not decode carries a traceparent, then the consumer logs its dead-lettering with the trace id', async () => {
    const id = randomUUID();

    harness.publishRaw('checkout.completed', Buffer.from(JSON.stringify({ trackingId: id })), {
      contentType: 'application/json',
      messageId: id,
      headers: { traceparent: TRACEPARENT },
    });
    await harness.decided(id, 'dead-lettered');

    const line = harness.logs.find('invalid message dead-lettered').find((candidate) => candidate.trackingId === id);
    expect(line).toMatchObject({ traceId: TRACE_ID });
  });
});
