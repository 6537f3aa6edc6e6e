import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('the provider breaker (consumption, state, health)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('breaker', {
      PROVIDER_BREAKER_FAILURES: '2',
      PROVIDER_BREAKER_PROBE_MS: '300',
      RETRY_MAX_RETRIES: '3',
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

  it('When Mailjet keeps failing, then the breaker opens, consumption pauses but for one message that carries the probes, the rest wait untouched, and all is sent once it answers', async () => {
    harness.sandbox.faults.set({ failRate: 1, status: 503 });
    const first = buildMessage();
    harness.publish(first);
    await waitFor(() => (harness.handler.provider.breakerState() !== 'closed' ? true : undefined), {
      what: 'the breaker to open',
    });
    const queued = [buildMessage(), buildMessage(), buildMessage()];
    for (const message of queued) harness.publish(message);
    // One of them comes in to wait for the breaker beside the first; two stay in the queue. The
    // broker counts a message out as it sends it; the consumer holds it a moment later.
    const oneCameInBesideTheFirst = async () => {
      const { messageCount } = await harness.broker.channel.checkQueue(harness.topology.queue);
      return messageCount === 2 && harness.handler.consumer.inFlightCount() === 2 ? true : undefined;
    };
    await waitFor(oneCameInBesideTheFirst, { what: 'one queued message to come in beside the first' });
    const health = await harness.api('/healthz');
    const readiness = await harness.api('/readyz');
    const probesBefore = harness.logs.find('provider breaker half-open: probing with a pending email').length;
    await waitFor(
      () =>
        harness.logs.find('provider breaker half-open: probing with a pending email').length >= probesBefore + 2
          ? true
          : undefined,
      { what: 'two more probes' },
    );
    // Two probes later, nothing more came in: consumption stayed paused.
    const stillTwoInTwoQueued = await oneCameInBesideTheFirst();

    harness.sandbox.faults.clear();

    const sentFirst = await harness.settled(first.trackingId, ['sent']);
    const queuedAttempts: number[] = [];
    for (const message of queued) {
      queuedAttempts.push((await harness.settled(message.trackingId, ['sent'])).attemptCount);
      expect(harness.decisions.filter((d) => d.trackingId === message.trackingId)).toHaveLength(1);
    }
    expect(stillTwoInTwoQueued).toBe(true);
    // The two that waited in the queue were never tried while the breaker was open.
    expect(queuedAttempts.filter((count) => count === 1).length).toBeGreaterThanOrEqual(2);
    expect(health.body).toMatchObject({ status: 'ok', breaker: { mailjet: expect.stringMatching(/open|half_open/) } });
    expect(health.body.pausedBy).toEqual(['mailjet']);
    expect(readiness.status).toBe(200);
    // Two calls opened it; every later call was a probe carrying whichever emails waited (the
    // first's, or the one let in to carry probes), none of which spent a message's retries.
    const failedCalls = sentFirst.attemptCount - 1 + queuedAttempts.reduce((sum, count) => sum + count - 1, 0);
    expect(failedCalls).toBeGreaterThanOrEqual(4);
    expect(harness.decisions.filter((d) => d.trackingId === first.trackingId)).toEqual([
      expect.objectContaining({ kind: 'acked', outcome: 'sent' }),
    ]);
    expect(harness.handler.consumer.isConsuming()).toBe(true);
    expect((await harness.api('/healthz')).body).toMatchObject({ breaker: { mailjet: 'closed' }, pausedBy: [] });
  });
});

describe('Mailjet throttling (state)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('throttle', { RETRY_MAX_RETRIES: '0', PROVIDER_THROTTLE_PAUSE_MS: '100' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet answers 429 twice, then the calls pause and the email is still sent with no retry budget at all', async () => {
    harness.sandbox.faults.set({ failNext: 2, status: 429 });
    const message = buildMessage();

    harness.publish(message);
    const sent = await harness.settled(message.trackingId, ['sent']);

    expect(sent.attempts.map((attempt: { httpStatus: number }) => attempt.httpStatus)).toEqual([429, 429, 200]);
    expect(harness.logs.find('provider throttled us (429): pausing calls').length).toBeGreaterThanOrEqual(2);
    expect(harness.emailsFor(message.trackingId)).toHaveLength(1);
  });
});

describe('the call-rate limit (outbound calls)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('rate-limit', { MAILJET_MAX_CALLS_PER_SECOND: '4' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When sends come faster than the limit, then Mailjet receives the calls spaced at the limit', async () => {
    const messages = Array.from({ length: 4 }, () => buildMessage());
    for (const message of messages) {
      harness.publish(message);
      // One call each: a send still in flight would take the next email into the same call.
      await harness.settled(message.trackingId, ['sent']);
    }

    const received = messages
      .map((message) => Date.parse(String(harness.emailsFor(message.trackingId)[0]?.receivedAt)))
      .sort((a, b) => a - b);
    const gaps = received.slice(1).map((at, index) => at - (received[index] as number));
    // 4 calls a second: the limiter lets them go 250 ms apart. The sandbox sees them later by each
    // call's own way there, which for the first includes opening the connection: a gap may fall
    // short of 250 by that much, never to the few ms apart of calls let go at once (each message
    // here is published when the one before is settled, tens of ms apart unlimited).
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    expect((received.at(-1) as number) - (received[0] as number)).toBeGreaterThanOrEqual(3 * 250 - 50);
  });
});
