import { EventEmitter, once, setMaxListeners } from 'node:events';
import { createInFlight, settledBefore } from '@notify/shared/platform';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { abortableSleep } from '../domain/abortable-sleep.js';
import { createConsumptionSwitch } from './consumption-switch.js';
import type { Decision } from './decisions.js';
import { createDeliveryAcks } from './delivery-acks.js';
import { createDeliveryDecisions, type DeliveryChannel, type DeliveryDecisionDeps } from './delivery-decisions.js';
import { assertDeadLetterQueue, assertNotificationTopology } from './topology.js';

export type { DeadLetterCause, Decision } from './decisions.js';

export type ConsumerDeps = Pick<DeliveryDecisionDeps, 'topology' | 'handle' | 'publish' | 'whenPublishable' | 'log'> &
  Partial<Pick<DeliveryDecisionDeps, 'requeueDelayMs'>> & {
    prefetch: number;
    /** Asked of the broker for each consumer: longer than any delivery is held. */
    consumerTimeoutMs: number;
    delaysMs: readonly number[];
    /** The dead-letter queue's length bound (declared on new queues). */
    deadLetterMaxMessages: number;
  };

/**
 * One consumer channel's life. `stopWork` aborts on shutdown or when this channel closes: the
 * signal every delivery on it is handled with, made once per channel. Not one
 * `AbortSignal.any` per delivery: Node 20 keeps a WeakRef for each in its sources, the
 * process-wide shutdown signal among them, for as long as they live (at 400 messages/s the
 * handler grew by 100 MiB an hour).
 */
type Live = DeliveryChannel & { model: ChannelModel; channel: Channel };

export type NotificationConsumer = ReturnType<typeof createNotificationConsumer>;

type HeldDeliveries = ReturnType<typeof heldDeliveries>;

/** The deliveries one channel handed us that are not acked or requeued yet. */
function heldDeliveries() {
  const settled = new EventEmitter<{ settled: [] }>();
  settled.setMaxListeners(0);
  let count = 0;
  return {
    hold(work: Promise<void>): Promise<void> {
      count += 1;
      return work.finally(() => {
        count -= 1;
        settled.emit('settled');
      });
    },
    async whenAtMost(limit: number, signal: AbortSignal): Promise<void> {
      while (count > limit && !signal.aborted) await once(settled, 'settled', { signal }).catch(() => undefined);
    },
  };
}

/** Of the broker's consumer timeout, how much a delivery may spend waiting for the publisher. */
const HOLD_SHARE_OF_CONSUMER_TIMEOUT = 0.9;

/** How long a stop waits for the broker's answer to its cancel, and to its close of the channel. */
const BROKER_ANSWER_WAIT_MS = 1_000;

/**
 * The queue entry point: one consumer channel at a time, each delivery handed to the decisions
 * (delivery-decisions.ts) and tracked until it is acked or requeued, so that shutdown can wait
 * for it. `setup` runs on every (re)connect of the recovering connection. Consumption pauses
 * while anything the handler needs is away (`pause(reason)`, see consumption-switch.ts): the
 * messages wait in the queue, untouched.
 */
export function createNotificationConsumer(deps: ConsumerDeps) {
  const { log, topology } = deps;
  const events = new EventEmitter<{ decided: [Decision] }>();
  events.setMaxListeners(0);
  const inFlight = createInFlight();
  const shutdown = new AbortController();
  const consumption = createConsumptionSwitch({
    queue: topology.queue,
    prefetch: deps.prefetch,
    consumerTimeoutMs: deps.consumerTimeoutMs,
    log,
  });
  const decide = createDeliveryDecisions({
    topology,
    handle: deps.handle,
    publish: deps.publish,
    whenPublishable: deps.whenPublishable,
    // Past the consumer timeout the broker closes the channel and takes back every delivery on it.
    holdLimitMs: Math.floor(deps.consumerTimeoutMs * HOLD_SHARE_OF_CONSUMER_TIMEOUT),
    log,
    requeueDelayMs: deps.requeueDelayMs ?? 2_000,
    decided: (decision) => events.emit('decided', decision),
  });
  let live: Live | undefined;

  async function setup(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    const closed = new AbortController();
    const stopWork = AbortSignal.any([shutdown.signal, closed.signal]);
    // Each delivery waiting on it (a retry's pause, an open breaker, a lease) listens while it
    // waits and stops when done: up to PREFETCH listeners at once, none left behind.
    setMaxListeners(0, stopWork);
    const acks = createDeliveryAcks(channel, closed.signal, log);
    const current: Live = { model, channel, acks, closed: closed.signal, stopWork };
    channel.on('error', (err) => log.warn({ err }, 'consumer channel error'));
    channel.on('close', () => {
      closed.abort();
      consumption.detach(channel);
      if (live !== current) return;
      live = undefined;
      // A channel closed under a live connection would leave us consuming nothing: start over.
      if (!shutdown.signal.aborted) restartConnection(current, 'consumer channel closed');
    });
    await assertDeadLetterQueue(model, topology, deps.deadLetterMaxMessages, log);
    await assertNotificationTopology(channel, topology, deps.delaysMs.map(Number));
    live = current;
    const held = heldDeliveries();
    await consumption.attach(
      channel,
      (delivery) => onDelivery(current, delivery, held),
      (limit, signal) => held.whenAtMost(limit, signal),
    );
  }

  function onDelivery(current: Live, delivery: ConsumeMessage | null, held: HeldDeliveries): void {
    if (delivery === null) restartConnection(current, 'consumer cancelled by the broker');
    else {
      current.acks.received(delivery);
      track(held.hold(decide(current, delivery)));
    }
  }

  function restartConnection(current: Live, reason: string): void {
    if (live === current) live = undefined;
    log.warn({ reason }, 'setting the consumer up again');
    // Closing the connection makes amqplib's recovery reconnect and rerun setup.
    current.model.close().catch(() => undefined);
  }

  function track(work: Promise<void>): void {
    inFlight.track(
      work.catch((err: unknown) => log.error({ err }, 'delivery handling failed; the broker will redeliver it')),
    );
  }

  return {
    setup,
    events,
    /** The broker channel is open (consuming or paused). */
    isConnected: () => live !== undefined,
    /** Taking messages at full prefetch. */
    isConsuming: () => live !== undefined && consumption.mode() === 'full',
    pausedBy: consumption.pausedBy,
    inFlightCount: inFlight.count,
    pause: consumption.pause,
    resume: consumption.resume,
    /**
     * Stops taking messages, ends waits, lets in-flight sends finish within `timeoutMs`. Whatever
     * is still unacked when the channel closes goes back to the queue.
     */
    async stop(timeoutMs: number): Promise<void> {
      const stopBy = Date.now() + timeoutMs;
      shutdown.abort();
      // The cancel and the close wait for the broker's answer, which a broker gone silent never
      // gives (its heartbeat notices after two missed beats): past a short wait the stop goes on,
      // and what the channel still holds goes back to the queue with the connection.
      await settledBefore(consumption.stop(), Math.min(stopBy, Date.now() + BROKER_ANSWER_WAIT_MS));
      const drained = new AbortController();
      await Promise.race([
        inFlight.settled().finally(() => drained.abort()),
        abortableSleep(Math.max(0, stopBy - Date.now()), drained.signal),
      ]);
      const current = live;
      live = undefined;
      if (!current) return;
      // Acks of the last deliveries settled may still wait for the end of their turn.
      current.acks.flush();
      await settledBefore(current.channel.close(), Date.now() + BROKER_ANSWER_WAIT_MS);
    },
  };
}
