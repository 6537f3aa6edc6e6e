import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { sampleValue } from '@notify/test-support/metrics-text.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

const OPERATION = 'checkout.completed';

/** Reads the handler's /metrics, and polls it until a condition holds. */
function metricsOf(harness: Harness) {
  const scrape = async () => {
    const response = await fetch(`${harness.handler.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    return response.text();
  };
  const scrapeUntil = (accept: (text: string) => boolean, what: string) =>
    waitFor(
      async () => {
        const text = await scrape();
        return accept(text) ? text : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what },
    );
  return { scrape, scrapeUntil };
}

const notifications = (text: string, outcome: string, operation: string = OPERATION) =>
  sampleValue(text, 'notify_notifications_total', { operation, outcome }) ?? Number.NaN;
const providerCalls = (text: string, result: string) =>
  sampleValue(text, 'notify_provider_calls_total', { provider: 'mailjet', result }) ?? Number.NaN;

describe('handler metrics', () => {
  let harness: Harness;
  let scrape: () => Promise<string>;
  let scrapeUntil: ReturnType<typeof metricsOf>['scrapeUntil'];
  const trackingIds: string[] = [];

  beforeAll(async () => {
    harness = await startHarness('metrics', {
      // One call per try, and a transient failure waits in a delay queue instead of failing.
      RETRY_MAX_RETRIES: '0',
      REDELIVERY_DELAYS_MS: '60000',
      NOTIFICATION_DEADLINE_MS: '3600000',
      QUEUE_SAMPLE_MS: '100',
    });
    ({ scrape, scrapeUntil } = metricsOf(harness));
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const send = (message = buildMessage(OPERATION)) => {
    trackingIds.push(message.trackingId);
    harness.publish(message);
    return message;
  };

  it('When a notification is sent, then the sent counter of its operation, the provider call metrics and the accepted-to-sent histogram move by one', async () => {
    harness.sandbox.faults.clear();
    const before = await scrape();

    const message = send();
    await harness.decided(message.trackingId, 'acked');

    const after = await scrapeUntil(
      (text) => notifications(text, 'sent') === notifications(before, 'sent') + 1,
      'sent',
    );
    expect(notifications(after, 'sent', 'ticket.added_to_checkout')).toBe(
      notifications(before, 'sent', 'ticket.added_to_checkout'),
    );
    expect(providerCalls(after, 'sent')).toBe(providerCalls(before, 'sent') + 1);
    const calls = (text: string) =>
      sampleValue(text, 'notify_provider_call_duration_seconds_count', { provider: 'mailjet' }) ?? 0;
    expect(calls(after)).toBe(calls(before) + 1);
    const emails = (text: string) => sampleValue(text, 'notify_emails_per_call_sum') ?? 0;
    expect(emails(after)).toBe(emails(before) + 1);
    const latencies = (text: string) => sampleValue(text, 'notify_accepted_to_sent_seconds_count') ?? 0;
    expect(latencies(after)).toBe(latencies(before) + 1);
  });

  it('When a sent notification is delivered again, then the duplicate counter moves by one and no provider call is made', async () => {
    const message = send();
    await harness.decided(message.trackingId, 'acked');
    const before = await scrape();

    harness.publish(message);
    await harness.waitFor(() =>
      harness.decisions.filter((d) => d.kind === 'acked' && d.trackingId === message.trackingId).length === 2
        ? true
        : undefined,
    );

    const after = await scrapeUntil(
      (text) => notifications(text, 'duplicate') === notifications(before, 'duplicate') + 1,
      'duplicate',
    );
    expect(notifications(after, 'sent')).toBe(notifications(before, 'sent'));
    expect(providerCalls(after, 'sent')).toBe(providerCalls(before, 'sent'));
  });

  it('When Mailjet refuses the recipient for good, then failed and dead_lettered move by one and the queue gauge shows the dead-letter queue', async () => {
    harness.sandbox.faults.set({ failRecipients: 'fail.example' });
    const before = await scrape();
    const message = buildMessage(OPERATION);
    message.recipient.email = `refused-${randomUUID().slice(0, 8)}@fail.example`;

    send(message);
    await harness.decided(message.trackingId, 'dead-lettered');

    const after = await scrapeUntil(
      (text) => notifications(text, 'failed') === notifications(before, 'failed') + 1,
      'failed',
    );
    expect(notifications(after, 'dead_lettered')).toBe(notifications(before, 'dead_lettered') + 1);
    expect(providerCalls(after, 'failed_permanent')).toBe(providerCalls(before, 'failed_permanent') + 1);
    // This file's dead-letter queue is its own, and nothing takes messages off it.
    const { messageCount } = await harness.broker.channel.checkQueue(harness.topology.deadLetterQueue);
    expect(messageCount).toBeGreaterThanOrEqual(1);
    const queue = { queue: harness.topology.deadLetterQueue };
    await scrapeUntil((text) => sampleValue(text, 'notify_queue_messages', queue) === messageCount, 'the DLQ depth');
    expect(sampleValue(after, 'notify_queue_messages', { queue: harness.topology.queue })).toBeGreaterThanOrEqual(0);
    harness.sandbox.faults.clear();
  });

  it('When a message does not decode, then dead_lettered moves under operation "unknown" and failed does not', async () => {
    const before = await scrape();
    const id = randomUUID();

    harness.publishRaw(OPERATION, Buffer.from('{"not":"a notification"}'), {
      contentType: 'application/json',
      messageId: id,
    });
    await harness.decided(id, 'dead-lettered');

    const after = await scrapeUntil(
      (text) =>
        notifications(text, 'dead_lettered', 'unknown') ===
        (notifications(before, 'dead_lettered', 'unknown') || 0) + 1,
      'dead_lettered unknown',
    );
    expect(
      sampleValue(after, 'notify_notifications_total', { operation: 'unknown', outcome: 'failed' }),
    ).toBeUndefined();
  });

  it('When a send fails transiently past the immediate retries, then rescheduled moves by one', async () => {
    harness.sandbox.faults.set({ failNext: 1, status: 503 });
    const before = await scrape();

    const message = send();
    await harness.decided(message.trackingId, 'rescheduled');

    const after = await scrapeUntil(
      (text) => notifications(text, 'rescheduled') === notifications(before, 'rescheduled') + 1,
      'rescheduled',
    );
    expect(providerCalls(after, 'failed_transient')).toBe(providerCalls(before, 'failed_transient') + 1);
    expect(notifications(after, 'failed')).toBe(notifications(before, 'failed'));
    harness.sandbox.faults.clear();
  });

  it('When a send is under way, then the in-flight gauge counts it, and it falls back once acked', async () => {
    // Under the harness's 500 ms Mailjet timeout.
    harness.sandbox.faults.set({ latencyMs: 300 });
    const message = send();

    await scrapeUntil((text) => (sampleValue(text, 'notify_messages_in_flight') ?? 0) >= 1, 'a message in flight');
    await harness.decided(message.trackingId, 'acked');
    harness.sandbox.faults.clear();

    await scrapeUntil((text) => sampleValue(text, 'notify_messages_in_flight') === 0, 'nothing in flight');
  });

  it('When the status API is asked, then /metrics times it under the route template and names no tracking id', async () => {
    const [trackingId] = trackingIds;
    expect((await harness.api(`/notifications/${trackingId}`)).status).toBe(200);
    expect((await harness.api(`/notifications/${randomUUID()}`)).status).toBe(404);

    const text = await scrapeUntil(
      (body) => body.includes('route="/notifications/:trackingId",status_code="404"'),
      'the status requests in the metrics',
    );

    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/notifications\/:trackingId",status_code="200"\} \d+/,
    );
    for (const id of trackingIds) expect(text).not.toContain(id);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE notify_provider_breaker_state gauge');
    expect(sampleValue(text, 'notify_provider_breaker_state', { provider: 'mailjet' })).toBe(0);
  });
});

describe('handler metrics: the provider breaker', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('metrics-breaker', {
      // One failed call opens it, and no probe comes during the test.
      PROVIDER_BREAKER_FAILURES: '1',
      PROVIDER_BREAKER_PROBE_MS: '60000',
      RETRY_MAX_RETRIES: '0',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When Mailjet fails and the breaker opens, then the breaker gauge reads 2', async () => {
    const { scrape, scrapeUntil } = metricsOf(harness);
    expect(sampleValue(await scrape(), 'notify_provider_breaker_state', { provider: 'mailjet' })).toBe(0);
    harness.sandbox.faults.set({ failNext: 100, status: 503 });

    harness.publish(buildMessage());

    const text = await scrapeUntil(
      (body) => sampleValue(body, 'notify_provider_breaker_state', { provider: 'mailjet' }) === 2,
      'the breaker open',
    );
    expect(providerCalls(text, 'failed_transient')).toBe(1);
  });
});
