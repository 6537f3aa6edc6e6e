import { EventEmitter } from 'node:events';
import { decodeNotification, describeProblem, type Topology } from '@notify/shared';
import type { Logger, OutgoingMessage, PublishOutcome } from '@notify/shared/platform';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { abortableSleep } from '../domain/abortable-sleep.js';
import type { NotificationDelivery, SendNotificationOutcome } from '../domain/send-notification.js';
import { deadLetterCopy } from './dead-letter.js';
import { delayedCopyProperties, readDelivery } from './delivery-headers.js';
import { assertDeadLetterQueue, assertNotificationTopology, delayQueueName } from './topology.js';

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

/** What the consumer did with a delivery; tests and metrics wait on these, not on log text. */
export type Decision =
  | { kind: 'acked'; trackingId: string; outcome: SendNotificationOutcome['kind'] }
  | { kind: 'dead-lettered'; trackingId: string | undefined; reason: string }
  | { kind: 'rescheduled'; trackingId: string; delayMs: number; nextAttemptAt: Date }
  | { kind: 'requeued'; trackingId: string | undefined; reason: string };

type Live = { model: ChannelModel; channel: Channel; consumerTag: string | undefined; closed: AbortController };

export type NotificationConsumer = ReturnType<typeof createNotificationConsumer>;

/**
 * The queue entry point: decode → validate → hand to the use case → map its outcome to ack,
 * dead-letter, delayed retry or requeue. `setup` runs on every (re)connect of the recovering
 * connection. Consumption pauses while anything the handler needs is away (`pause(reason)`): the
 * messages wait in the queue, untouched.
 */
export function createNotificationConsumer(deps: ConsumerDeps) {
  const { log, topology } = deps;
  const events = new EventEmitter<{ decided: [Decision] }>();
  events.setMaxListeners(0);
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  const pausedBy = new Set<string>();
  let live: Live | undefined;
  let reconciling: Promise<void> = Promise.resolve();

  async function setup(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    const current: Live = { model, channel, consumerTag: undefined, closed: new AbortController() };
    channel.on('error', (err) => log.warn({ err }, 'consumer channel error'));
    channel.on('close', () => {
      current.closed.abort();
      if (live !== current) return;
      live = undefined;
      // A channel closed under a live connection would leave us consuming nothing: start over.
      if (!shutdown.signal.aborted) restartConnection(current, 'consumer channel closed');
    });
    await channel.prefetch(deps.prefetch);
    await assertDeadLetterQueue(model, topology, deps.deadLetterMaxMessages, log);
    await assertNotificationTopology(channel, topology, deps.delaysMs.map(Number));
    live = current;
    await reconcile();
  }

  /** Consumes exactly while nothing pauses it; cancel and consume never overlap. */
  function reconcile(): Promise<void> {
    reconciling = reconciling
      .then(applyPauseState)
      .catch((err: unknown) => log.warn({ err }, 'could not change consumption'));
    return reconciling;
  }

  async function applyPauseState(): Promise<void> {
    const current = live;
    if (!current) return;
    const wanted = pausedBy.size === 0 && !shutdown.signal.aborted;
    if (wanted && current.consumerTag === undefined) {
      const { consumerTag } = await current.channel.consume(topology.queue, (delivery) =>
        onDelivery(current, delivery),
      );
      current.consumerTag = consumerTag;
      log.info({ queue: topology.queue, prefetch: deps.prefetch }, 'consuming');
    } else if (!wanted && current.consumerTag !== undefined) {
      const tag = current.consumerTag;
      current.consumerTag = undefined;
      await current.channel.cancel(tag);
    }
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
    const decoded = decodeNotification(delivery);
    if (!decoded.ok) {
      const reasons = decoded.error.problems.map(describeProblem);
      log.warn({ trackingId: decoded.error.trackingId, reasons }, 'invalid message dead-lettered');
      return deadLetter(current, delivery, decoded.error.trackingId, `invalid message: ${reasons.join('; ')}`);
    }
    const { trackingId } = decoded.message;
    try {
      const signal = AbortSignal.any([shutdown.signal, current.closed.signal]);
      const outcome = await deps.handle(readDelivery(decoded.message, delivery), signal);
      if (outcome.kind === 'failed' || outcome.kind === 'refused')
        return deadLetter(current, delivery, trackingId, outcome.reason);
      if (outcome.kind === 'rescheduled') return reschedule(current, delivery, trackingId, outcome);
      if (outcome.kind === 'interrupted') return requeue(current, delivery, trackingId, 'interrupted');
      ack(current, delivery, { kind: 'acked', trackingId, outcome: outcome.kind });
    } catch (err) {
      log.error({ err, trackingId }, 'notification not processed; back to the queue');
      await abortableSleep(deps.requeueDelayMs ?? 2_000, shutdown.signal);
      requeue(current, delivery, trackingId, (err as Error).message);
    }
  }

  /** A copy with the reason in its headers goes to the dead-letter exchange, then the original is acked. */
  async function deadLetter(current: Live, delivery: ConsumeMessage, trackingId: string | undefined, reason: string) {
    const copy = deadLetterCopy(delivery, reason);
    const result = await deps.publish({ exchange: topology.deadLetterExchange, ...copy, properties: copy.options });
    if (result.status !== 'published') {
      log.error({ trackingId, reason: result.reason }, 'dead-lettering failed; the message stays on the queue');
      // A full dead-letter queue refuses for as long as nobody drains it: no hot loop meanwhile.
      await abortableSleep(deps.requeueDelayMs ?? 2_000, shutdown.signal);
      return requeue(current, delivery, trackingId, `dead-lettering failed: ${result.reason}`);
    }
    ack(current, delivery, { kind: 'dead-lettered', trackingId, reason });
  }

  /** The message waits in the delay queue for its wait, holding no prefetch slot, then comes back. */
  async function reschedule(
    current: Live,
    delivery: ConsumeMessage,
    trackingId: string,
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
      return requeue(current, delivery, trackingId, `rescheduling failed: ${result.reason}`);
    ack(current, delivery, {
      kind: 'rescheduled',
      trackingId,
      delayMs: outcome.delayMs,
      nextAttemptAt: outcome.nextAttemptAt,
    });
  }

  function ack(current: Live, delivery: ConsumeMessage, decision: Decision): void {
    if (onOpenChannel(current, () => current.channel.ack(delivery))) events.emit('decided', decision);
  }

  function requeue(current: Live, delivery: ConsumeMessage, trackingId: string | undefined, reason: string): void {
    if (onOpenChannel(current, () => current.channel.nack(delivery, false, true)))
      events.emit('decided', { kind: 'requeued', trackingId, reason });
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
    isConsuming: () => live?.consumerTag !== undefined,
    pausedBy: () => [...pausedBy],
    inFlightCount: () => inFlight.size,
    pause(reason: string): void {
      if (pausedBy.has(reason)) return;
      pausedBy.add(reason);
      log.warn({ reason, pausedBy: [...pausedBy] }, 'consumption paused');
      void reconcile();
    },
    resume(reason: string): void {
      if (!pausedBy.delete(reason)) return;
      log.info({ reason, stillPausedBy: [...pausedBy] }, pausedBy.size === 0 ? 'consumption resumed' : 'still paused');
      void reconcile();
    },
    /**
     * Stops taking messages, ends waits, lets in-flight sends finish within `timeoutMs`. Whatever
     * is still unacked when the channel closes goes back to the queue.
     */
    async stop(timeoutMs: number): Promise<void> {
      shutdown.abort();
      await reconcile();
      const deadline = AbortSignal.timeout(timeoutMs);
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => deadline.addEventListener('abort', resolve)),
      ]);
      const current = live;
      live = undefined;
      await current?.channel.close().catch(() => undefined);
    },
  };
}
