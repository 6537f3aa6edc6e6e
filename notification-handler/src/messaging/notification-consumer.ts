import { EventEmitter, setMaxListeners } from 'node:events';
import {
  decodeNotification,
  describeProblem,
  type MessageDecodeError,
  type Operation,
  type Topology,
} from '@notify/shared';
import type { Logger, OutgoingMessage, PublishOutcome } from '@notify/shared/platform';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { abortableSleep } from '../domain/abortable-sleep.js';
import { scrubAddresses } from '../domain/scrub-addresses.js';
import type { NotificationDelivery, SendNotificationOutcome } from '../domain/send-notification.js';
import { createConsumptionSwitch } from './consumption-switch.js';
import { deadLetterCopy } from './dead-letter.js';
import type { DeadLetterCause, Decision } from './decisions.js';
import { delayedCopyProperties, readDelivery, readTraceId } from './delivery-headers.js';
import { assertDeadLetterQueue, assertNotificationTopology, delayQueueName } from './topology.js';

export type { DeadLetterCause, Decision } from './decisions.js';

export type ConsumerDeps = {
  topology: Topology;
  prefetch: number;
  delaysMs: readonly number[];
  handle: (delivery: NotificationDelivery, signal: AbortSignal) => Promise<SendNotificationOutcome>;
  /** Confirmed publishing on a channel of its own (dead letters, delayed retries). */
  publish: (message: OutgoingMessage) => Promise<PublishOutcome>;
  log: Logger;
  /** How long to hold a message whose handling threw before requeueing it. */
  requeueDelayMs?: number;
  /** The dead-letter queue's length bound (declared on new queues). */
  deadLetterMaxMessages: number;
};

/** The delivery a decision is about, and the logger whose lines carry its trace id. */
type Subject = { trackingId: string | undefined; operation: Operation | undefined; log: Logger };

/**
 * One consumer channel's life. `stopWork` aborts on shutdown or when this channel closes: the
 * signal every delivery on it is handled with, made once per channel. Not one
 * `AbortSignal.any` per delivery: Node 20 keeps a WeakRef for each in its sources, the
 * process-wide shutdown signal among them, for as long as they live (at 400 messages/s the
 * handler grew by 100 MiB an hour).
 */
type Live = { model: ChannelModel; channel: Channel; closed: AbortController; stopWork: AbortSignal };

export type NotificationConsumer = ReturnType<typeof createNotificationConsumer>;

/**
 * The queue entry point: decode → validate → hand to the use case → map its outcome to ack,
 * dead-letter, delayed retry or requeue. `setup` runs on every (re)connect of the recovering
 * connection. Consumption pauses while anything the handler needs is away (`pause(reason)`, see
 * consumption-switch.ts): the messages wait in the queue, untouched.
 */
export function createNotificationConsumer(deps: ConsumerDeps) {
  const { log, topology } = deps;
  const events = new EventEmitter<{ decided: [Decision] }>();
  events.setMaxListeners(0);
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  const consumption = createConsumptionSwitch({ queue: topology.queue, prefetch: deps.prefetch, log });
  let live: Live | undefined;

  async function setup(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    const closed = new AbortController();
    const stopWork = AbortSignal.any([shutdown.signal, closed.signal]);
    // Each delivery waiting on it (a retry's pause, an open breaker, a lease) listens while it
    // waits and stops when done: up to PREFETCH listeners at once, none left behind.
    setMaxListeners(0, stopWork);
    const current: Live = { model, channel, closed, stopWork };
    channel.on('error', (err) => log.warn({ err }, 'consumer channel error'));
    channel.on('close', () => {
      current.closed.abort();
      consumption.detach(channel);
      if (live !== current) return;
      live = undefined;
      // A channel closed under a live connection would leave us consuming nothing: start over.
      if (!shutdown.signal.aborted) restartConnection(current, 'consumer channel closed');
    });
    await assertDeadLetterQueue(model, topology, deps.deadLetterMaxMessages, log);
    await assertNotificationTopology(channel, topology, deps.delaysMs.map(Number));
    live = current;
    await consumption.attach(channel, (delivery) => onDelivery(current, delivery));
  }

  function onDelivery(current: Live, delivery: ConsumeMessage | null): void {
    if (delivery === null) restartConnection(current, 'consumer cancelled by the broker');
    else track(processDelivery(current, delivery));
  }

  function restartConnection(current: Live, reason: string): void {
    if (live === current) live = undefined;
    log.warn({ reason }, 'setting the consumer up again');
    // Closing the connection makes amqplib's recovery reconnect and rerun setup.
    current.model.close().catch(() => undefined);
  }

  function track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => log.error({ err }, 'delivery handling failed; the broker will redeliver it'))
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  async function processDelivery(current: Live, delivery: ConsumeMessage): Promise<void> {
    const traceId = readTraceId(delivery);
    const deliveryLog = traceId ? log.child({ traceId }) : log;
    const decoded = decodeNotification(delivery);
    if (!decoded.ok) return deadLetterInvalid(current, delivery, decoded.error, deliveryLog);
    const notification = readDelivery(decoded.message, delivery);
    const { trackingId, operation, occurredAt } = decoded.message;
    const subject = { trackingId, operation, log: deliveryLog };
    try {
      const outcome = await deps.handle(notification, current.stopWork);
      if (outcome.kind === 'failed') return deadLetter(current, delivery, subject, outcome.reason, 'send_failed');
      if (outcome.kind === 'refused') return deadLetter(current, delivery, subject, outcome.reason, 'refused');
      if (outcome.kind === 'rescheduled') return reschedule(current, delivery, subject, outcome);
      if (outcome.kind === 'interrupted') return requeue(current, delivery, subject, 'interrupted');
      const { replay } = notification;
      ack(current, delivery, { kind: 'acked', trackingId, operation, outcome: outcome.kind, occurredAt, replay });
    } catch (err) {
      deliveryLog.error({ err, trackingId }, 'notification not processed; back to the queue');
      await abortableSleep(deps.requeueDelayMs ?? 2_000, shutdown.signal);
      requeue(current, delivery, subject, (err as Error).message);
    }
  }

  function deadLetterInvalid(current: Live, delivery: ConsumeMessage, error: MessageDecodeError, deliveryLog: Logger) {
    // A problem may quote the body (JSON.parse does, and so does a wrong schemaVersion).
    const reasons = error.problems.map((problem) => scrubAddresses(describeProblem(problem)));
    const { trackingId } = error;
    deliveryLog.warn({ trackingId, reasons }, 'invalid message dead-lettered');
    const subject = { trackingId, operation: undefined, log: deliveryLog };
    return deadLetter(current, delivery, subject, `invalid message: ${reasons.join('; ')}`, 'invalid_message');
  }

  /** A copy with the reason in its headers goes to the dead-letter exchange, then the original is acked. */
  async function deadLetter(
    current: Live,
    delivery: ConsumeMessage,
    subject: Subject,
    reason: string,
    cause: DeadLetterCause,
  ) {
    const { trackingId, operation } = subject;
    // The last door out: whatever a reason quotes, no address leaves in clear with the copy.
    const scrubbed = scrubAddresses(reason);
    const copy = deadLetterCopy(delivery, scrubbed);
    const result = await deps.publish({ exchange: topology.deadLetterExchange, ...copy, properties: copy.options });
    if (result.status !== 'published') {
      subject.log.error({ trackingId, reason: result.reason }, 'dead-lettering failed; the message stays on the queue');
      // A full dead-letter queue refuses for as long as nobody drains it: no hot loop meanwhile.
      await abortableSleep(deps.requeueDelayMs ?? 2_000, shutdown.signal);
      return requeue(current, delivery, subject, `dead-lettering failed: ${result.reason}`);
    }
    ack(current, delivery, { kind: 'dead-lettered', trackingId, operation, reason: scrubbed, cause });
  }

  /** The message waits in the delay queue for its wait, holding no prefetch slot, then comes back. */
  async function reschedule(
    current: Live,
    delivery: ConsumeMessage,
    subject: Subject & { trackingId: string; operation: Operation },
    outcome: Extract<SendNotificationOutcome, { kind: 'rescheduled' }>,
  ) {
    const result = await deps.publish({
      exchange: '',
      routingKey: delayQueueName(topology, outcome.delayMs),
      content: delivery.content,
      properties: delayedCopyProperties(delivery, outcome.redeliveries),
    });
    // Requeued instead, the row (retry_scheduled) is claimed again at once: an early attempt, no loss.
    if (result.status !== 'published')
      return requeue(current, delivery, subject, `rescheduling failed: ${result.reason}`);
    ack(current, delivery, {
      kind: 'rescheduled',
      trackingId: subject.trackingId,
      operation: subject.operation,
      delayMs: outcome.delayMs,
      nextAttemptAt: outcome.nextAttemptAt,
    });
  }

  function ack(current: Live, delivery: ConsumeMessage, decision: Decision): void {
    if (onOpenChannel(current, () => current.channel.ack(delivery))) events.emit('decided', decision);
  }

  function requeue(current: Live, delivery: ConsumeMessage, { trackingId, operation }: Subject, reason: string): void {
    if (onOpenChannel(current, () => current.channel.nack(delivery, false, true)))
      events.emit('decided', { kind: 'requeued', trackingId, operation, reason });
  }

  /** An ack on a channel that has since closed throws; the broker redelivers that message anyway. */
  function onOpenChannel(current: Live, action: () => void): boolean {
    if (current.closed.signal.aborted) return false;
    try {
      action();
      return true;
    } catch (err) {
      log.debug({ err }, 'could not settle a delivery on a closed channel');
      return false;
    }
  }

  return {
    setup,
    events,
    /** The broker channel is open (consuming or paused). */
    isConnected: () => live !== undefined,
    /** Taking messages at full prefetch. */
    isConsuming: () => live !== undefined && consumption.mode() === 'full',
    pausedBy: consumption.pausedBy,
    inFlightCount: () => inFlight.size,
    pause: consumption.pause,
    resume: consumption.resume,
    /**
     * Stops taking messages, ends waits, lets in-flight sends finish within `timeoutMs`. Whatever
     * is still unacked when the channel closes goes back to the queue.
     */
    async stop(timeoutMs: number): Promise<void> {
      shutdown.abort();
      await consumption.stop();
      const drained = new AbortController();
      await Promise.race([
        Promise.allSettled([...inFlight]).finally(() => drained.abort()),
        abortableSleep(timeoutMs, drained.signal),
      ]);
      const current = live;
      live = undefined;
      await current?.channel.close().catch(() => undefined);
    },
  };
}
