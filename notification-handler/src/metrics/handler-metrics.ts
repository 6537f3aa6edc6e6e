import { OPERATIONS } from '@notify/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from '../domain/email-provider.js';
import type { Decision } from '../messaging/notification-consumer.js';
import { PROVIDER_CALL_RESULTS, type ProviderCall } from '../provider-guard/provider-call.js';

export const NOTIFICATION_OUTCOMES = [
  'sent',
  'failed',
  'duplicate',
  'dead_lettered',
  'rescheduled',
  'requeued',
] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

/** The `operation` label of a message that did not decode: its own text is never a label. */
export const UNKNOWN_OPERATION = 'unknown';

/** Alerts compare against these numbers: 2 is open. */
const BREAKER_VALUES: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export type HandlerMetricsSources = {
  /** The providers in use: each has its series from the start. */
  providers: readonly string[];
  /** Each provider's breaker, by name. */
  breakerStates: () => Record<string, BreakerState>;
  inFlight: () => number;
};

export type HandlerMetrics = ReturnType<typeof registerHandlerMetrics>;

/**
 * The handler's own metrics. Names and labels are a contract: dashboards and the alert rules
 * (observability/alerts.yml) read them. Gauges of live state are read at scrape time; queue depths
 * come from the queue sampler.
 */
export function registerHandlerMetrics(registry: Registry, sources: HandlerMetricsSources) {
  const registers = [registry];
  const notifications = new Counter({
    name: 'notify_notifications_total',
    help: 'Notifications by what the consumer decided: sent, duplicate, failed, dead_lettered, rescheduled, requeued.',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const providerCalls = new Counter({
    name: 'notify_provider_calls_total',
    help: 'Calls asked of each email provider, by result (deferred ones were not made: its breaker was open).',
    labelNames: ['provider', 'result'] as const,
    registers,
  });
  const callDuration = new Histogram({
    name: 'notify_provider_call_duration_seconds',
    help: 'Duration of each call made to each email provider.',
    labelNames: ['provider'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const emailsPerCall = new Histogram({
    name: 'notify_emails_per_call',
    help: 'Emails carried by each call made to each email provider (at most 50 for Mailjet, 1 for SendGrid).',
    labelNames: ['provider'] as const,
    buckets: [1, 2, 5, 10, 20, 30, 40, 50],
    registers,
  });
  const acceptedToSent = new Histogram({
    name: 'notify_accepted_to_sent_seconds',
    help: "From the event's occurredAt to its email sent and acked; replays are not counted.",
    // Delayed retries wait minutes to hours: the upper buckets are for them.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600, 21_600, 86_400],
    registers,
  });
  new Gauge({
    name: 'notify_provider_breaker_state',
    help: "Each email provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ['provider'] as const,
    registers,
    collect() {
      for (const [provider, state] of Object.entries(sources.breakerStates()))
        this.set({ provider }, BREAKER_VALUES[state]);
    },
  });
  new Gauge({
    name: 'notify_messages_in_flight',
    help: 'Messages taken from the work queue and not yet acked, dead-lettered, rescheduled or requeued.',
    registers,
    collect() {
      this.set(sources.inFlight());
    },
  });
  const queueMessages = new Gauge({
    name: 'notify_queue_messages',
    help: 'Messages ready in the work and dead-letter queues (sampled; NaN when the broker did not answer).',
    labelNames: ['queue'] as const,
    registers,
  });

  // Every known series starts at 0, so that the first increment shows in rate() and increase().
  for (const operation of OPERATIONS)
    for (const outcome of NOTIFICATION_OUTCOMES) notifications.inc({ operation, outcome }, 0);
  for (const provider of sources.providers)
    for (const result of PROVIDER_CALL_RESULTS) providerCalls.inc({ provider, result }, 0);

  return {
    countDecision(decision: Decision, now = Date.now()): void {
      const operation = decision.operation ?? UNKNOWN_OPERATION;
      for (const outcome of notificationOutcomes(decision)) notifications.inc({ operation, outcome });
      if (decision.kind === 'acked' && decision.outcome === 'sent' && !decision.replay)
        acceptedToSent.observe(Math.max(0, now - Date.parse(decision.occurredAt)) / 1_000);
    },
    observeProviderCall(call: ProviderCall): void {
      providerCalls.inc({ provider: call.provider, result: call.result });
      if (call.durationSeconds === undefined) return;
      callDuration.observe({ provider: call.provider }, call.durationSeconds);
      emailsPerCall.observe({ provider: call.provider }, call.emails);
    },
    setQueueMessages(queue: string, messages: number): void {
      queueMessages.set({ queue }, messages);
    },
  };
}

/**
 * What a consumer decision counts as in notify_notifications_total. A failed notification is also
 * dead-lettered; a message dead-lettered for another cause (it did not decode, the database refused
 * it) is not a failed notification: no row says failed.
 */
export function notificationOutcomes(decision: Decision): NotificationOutcome[] {
  switch (decision.kind) {
    case 'acked':
      return decision.outcome === 'sent' || decision.outcome === 'duplicate' ? [decision.outcome] : [];
    case 'dead-lettered':
      return decision.cause === 'send_failed' ? ['failed', 'dead_lettered'] : ['dead_lettered'];
    case 'rescheduled':
      return ['rescheduled'];
    case 'requeued':
      return ['requeued'];
  }
}
