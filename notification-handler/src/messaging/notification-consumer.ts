import { decodeNotification, describeProblem, type NotificationMessage, type Topology } from '@notify/shared';
import type { Logger } from '@notify/shared/platform';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { abortableSleep } from '../domain/abortable-sleep.js';
import type { SendNotificationOutcome } from '../domain/send-notification.js';
import { publishConfirmed } from './confirmed-publish.js';
import { deadLetterCopy } from './dead-letter.js';
import { assertNotificationTopology } from './topology.js';

export type ConsumerDeps = {
  topology: Topology;
  prefetch: number;
  handle: (message: NotificationMessage, shutdown: AbortSignal) => Promise<SendNotificationOutcome>;
  log: Logger;
  /** How long to hold a message that hit an infrastructure error before requeueing it. */
  requeueDelayMs?: number;
};

export type NotificationConsumer = ReturnType<typeof createNotificationConsumer>;

/**
 * The queue entry point: decode → validate → hand to the use case → map its outcome to ack,
 * dead-letter or requeue. `setup` runs on every (re)connect of the recovering connection.
 */
export function createNotificationConsumer(deps: ConsumerDeps) {
  const { log, topology } = deps;
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  let current: { channel: ConfirmChannel; consumerTag: string } | undefined;

  async function setup(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (err) => log.warn({ err }, 'consumer channel error'));
    channel.on('handler-error', (err, event) => log.error({ err, event }, 'consumer channel handler threw'));
    channel.on('close', () => {
      if (current?.channel !== channel) return;
      current = undefined;
      // A channel closed under a live connection would leave us consuming nothing: start over.
      if (!shutdown.signal.aborted) restartConnection(model, 'consumer channel closed');
    });
    await channel.prefetch(deps.prefetch);
    await assertNotificationTopology(channel, topology);
    const { consumerTag } = await channel.consume(topology.queue, (delivery) => {
      if (delivery === null) return restartConnection(model, 'consumer cancelled by the broker');
      track(processDelivery(channel, delivery));
    });
    current = { channel, consumerTag };
    log.info({ queue: topology.queue, prefetch: deps.prefetch }, 'consuming');
  }

  function restartConnection(model: ChannelModel, reason: string): void {
    current = undefined;
    log.warn({ reason }, 'setting the consumer up again');
    // Closing the underlying connection makes amqplib's recovery reconnect and rerun setup.
    model.close().catch(() => undefined);
  }

  function track(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => log.error({ err }, 'delivery handling failed; the broker will redeliver it'))
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  async function processDelivery(channel: ConfirmChannel, delivery: ConsumeMessage): Promise<void> {
    const decoded = decodeNotification(delivery);
    if (!decoded.ok) {
      const reasons = decoded.error.problems.map(describeProblem);
      log.warn({ trackingId: decoded.error.trackingId, reasons }, 'invalid message dead-lettered');
      return deadLetter(channel, delivery, `invalid message: ${reasons.join('; ')}`);
    }
    try {
      const outcome = await deps.handle(decoded.message, shutdown.signal);
      if (outcome.kind === 'failed') return deadLetter(channel, delivery, outcome.reason);
      if (outcome.kind === 'interrupted') return settle(channel, () => channel.nack(delivery, false, true));
      settle(channel, () => channel.ack(delivery));
    } catch (err) {
      log.error({ err, trackingId: decoded.message.trackingId }, 'notification not processed; back to the queue');
      // Requeueing at once would spin on a database that is down; holding it a while does not.
      await abortableSleep(deps.requeueDelayMs ?? 2_000, shutdown.signal);
      settle(channel, () => channel.nack(delivery, false, true));
    }
  }

  /** A copy with the reason in its headers goes to the dead-letter exchange, then the original is acked. */
  async function deadLetter(channel: ConfirmChannel, delivery: ConsumeMessage, reason: string): Promise<void> {
    try {
      const copy = deadLetterCopy(delivery, reason);
      await publishConfirmed(channel, topology.deadLetterExchange, copy.routingKey, copy.content, copy.options);
      settle(channel, () => channel.ack(delivery));
    } catch (err) {
      log.error({ err }, 'dead-lettering failed; the message stays on the queue');
      settle(channel, () => channel.nack(delivery, false, true));
    }
  }

  /** An ack on a channel that has since closed throws; the broker redelivers that message anyway. */
  function settle(channel: ConfirmChannel, action: () => void): void {
    if (current?.channel !== channel) return;
    try {
      action();
    } catch (err) {
      log.debug({ err }, 'could not settle a delivery on a closed channel');
    }
  }

  return {
    setup,
    isConsuming: () => current !== undefined,
    /** The live channel, for publishing (replay); undefined while the broker is away. */
    channel: () => current?.channel,
    inFlightCount: () => inFlight.size,
    /**
     * Stops taking messages, ends waits, lets in-flight sends finish within `timeoutMs`. Whatever
     * is still unacked when the channel closes goes back to the queue.
     */
    async stop(timeoutMs: number): Promise<void> {
      const active = current;
      shutdown.abort();
      if (active) await active.channel.cancel(active.consumerTag).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      clearTimeout(timer);
      current = undefined;
      await active?.channel.close().catch(() => undefined);
    },
  };
}
