import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/messaging/notification-consumer.js';
import { notificationOutcomes, registerHandlerMetrics } from '../../src/metrics/handler-metrics.js';

const about = { trackingId: 'b3a8f3a0-1111-4111-8111-111111111111', operation: 'checkout.completed' } as const;
const acked = (outcome: 'sent' | 'duplicate', replay = false): Decision => ({
  kind: 'acked',
  ...about,
  outcome,
  occurredAt: '2026-12-01T10:00:00.000Z',
  replay,
});

describe('notification outcomes of consumer decisions', () => {
  it.each<[string, Decision, string[]]>([
    ['acked as sent', acked('sent'), ['sent']],
    ['acked as a duplicate', acked('duplicate'), ['duplicate']],
    [
      'dead-lettered again, an earlier delivery having failed it',
      { kind: 'dead-lettered', ...about, reason: 'x', cause: 'already_failed' },
      ['dead_lettered'],
    ],
    [
      'dead-lettered after the send failed',
      { kind: 'dead-lettered', ...about, reason: 'x', cause: 'send_failed' },
      ['failed', 'dead_lettered'],
    ],
    [
      'dead-lettered as undecodable',
      { kind: 'dead-lettered', trackingId: undefined, operation: undefined, reason: 'x', cause: 'invalid_message' },
      ['dead_lettered'],
    ],
    ['rescheduled', { kind: 'rescheduled', ...about, delayMs: 30_000, nextAttemptAt: new Date() }, ['rescheduled']],
    ['requeued', { kind: 'requeued', ...about, reason: 'interrupted' }, ['requeued']],
  ])('When a message is %s, then it counts as %j', (_kind, decision, outcomes) => {
    expect(notificationOutcomes(decision)).toEqual(outcomes);
  });
});

describe('handler metrics registry', () => {
  const metricsWith = (state: 'closed' | 'half_open' | 'open') => {
    const registry = new Registry();
    const metrics = registerHandlerMetrics(registry, {
      providers: ['mailjet', 'sendgrid'],
      breakerStates: () => ({ mailjet: state, sendgrid: 'closed' }),
      inFlight: () => 3,
    });
    return { registry, metrics };
  };
  /** A sample's value; `sample` names a histogram's `_count` or `_sum`. */
  const sampleValue = async (registry: Registry, name: string, labels: Record<string, string> = {}, sample = name) => {
    const metric = await registry.getSingleMetric(name)?.get();
    // A histogram's values name their series (`_bucket`, `_count`, `_sum`); prom-client's type omits it.
    return metric?.values.find(
      (value) =>
        ((value as { metricName?: string }).metricName ?? name) === sample &&
        Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted),
    )?.value;
  };

  it.each([
    ['closed', 0],
    ['half_open', 1],
    ['open', 2],
  ] as const)('When the breaker is %s, then the breaker gauge reads %i', async (state, value) => {
    const { registry } = metricsWith(state);
    expect(await sampleValue(registry, 'notify_provider_breaker_state', { provider: 'mailjet' })).toBe(value);
    expect(await sampleValue(registry, 'notify_provider_breaker_state', { provider: 'sendgrid' })).toBe(0);
    expect(await sampleValue(registry, 'notify_messages_in_flight')).toBe(3);
  });

  it('When a sent notification is acked, then accepted-to-sent observes its age; a replay is not observed', async () => {
    const { registry, metrics } = metricsWith('closed');
    const now = Date.parse('2026-12-01T10:00:02.500Z');

    metrics.countDecision(acked('sent'), now);
    metrics.countDecision(acked('sent', true), now);

    expect(
      await sampleValue(registry, 'notify_accepted_to_sent_seconds', {}, 'notify_accepted_to_sent_seconds_count'),
    ).toBe(1);
    expect(
      await sampleValue(registry, 'notify_accepted_to_sent_seconds', {}, 'notify_accepted_to_sent_seconds_sum'),
    ).toBe(2.5);
    expect(
      await sampleValue(registry, 'notify_notifications_total', { operation: about.operation, outcome: 'sent' }),
    ).toBe(2);
  });

  it('When nothing happened yet, then every operation and outcome already has a series at 0', async () => {
    const { registry } = metricsWith('closed');
    const values = (await registry.getSingleMetric('notify_notifications_total')?.get())?.values ?? [];
    expect(values).toHaveLength(12);
    expect(values.every((value) => value.value === 0)).toBe(true);
  });
});
