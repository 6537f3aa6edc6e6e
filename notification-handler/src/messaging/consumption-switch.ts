import type { Logger } from '@notify/shared/platform';
import type { Channel, ConsumeMessage } from 'amqplib';

/** full: PREFETCH in flight. one: a single message, to give a paused provider its probes. stopped: none. */
export type Mode = 'full' | 'one' | 'stopped';

type Subscription = {
  channel: Channel;
  onMessage: (delivery: ConsumeMessage | null) => void;
  /** Resolves once at most `count` deliveries of this channel are held, or when `signal` aborts. */
  whenHeldAtMost: (count: number, signal: AbortSignal) => Promise<void>;
  /** Aborts when the channel is detached or consumption stops for good. */
  gone: AbortController;
  consumerTag: string | undefined;
  mode: Mode;
};

/**
 * Whether, and how much, the consumer takes from its queue. Each reason to pause (the database, a
 * provider's breaker) is held until resumed; consumption runs at full prefetch only when none is
 * held. A reason may allow one message at a time: a provider whose breaker is open still needs a
 * real pending email for its probes when nothing else waits. Cancel and consume never overlap.
 */
export function createConsumptionSwitch({
  queue,
  prefetch,
  consumerTimeoutMs,
  log,
}: {
  queue: string;
  prefetch: number;
  /**
   * How long the broker should let a delivery go unacked. Asked on each consumer, which RabbitMQ 4.3
   * reads; 3.12 to 4.2 dropped per-consumer timeouts and take theirs from `consumer_timeout` or a
   * queue policy only (docker compose sets it: rabbitmq/consumer-timeout.conf).
   */
  consumerTimeoutMs: number;
  log: Logger;
}) {
  const consumeOptions = { arguments: { 'x-consumer-timeout': consumerTimeoutMs } };
  /** Why consumption is paused; true where one message at a time may still come. */
  const pausedBy = new Map<string, boolean>();
  let subscription: Subscription | undefined;
  let stopped = false;
  let applying: Promise<void> = Promise.resolve();

  function wantedMode(): Mode {
    if (stopped) return 'stopped';
    if (pausedBy.size === 0) return 'full';
    return [...pausedBy.values()].every(Boolean) ? 'one' : 'stopped';
  }

  function reconcile(): Promise<void> {
    applying = applying.then(apply).catch((err: unknown) => log.warn({ err }, 'could not change consumption'));
    return applying;
  }

  async function apply(): Promise<void> {
    const current = subscription;
    if (!current || current.mode === wantedMode()) return;
    if (current.consumerTag !== undefined) {
      const tag = current.consumerTag;
      current.consumerTag = undefined;
      // Messages it delivered stay ours to ack after the cancel.
      await current.channel.cancel(tag);
    }
    current.mode = 'stopped';
    if (wantedMode() === 'stopped') return;
    // The prefetch counts per consumer: what a cancelled consumer still holds is outside a new
    // one's window. Subscribing whatever they are would add a window on every pause and resume (a
    // database that answers the probe but refuses the writes: a window more each probe), so the new
    // consumer waits until at most half a window is still held: in flight stays under one and a
    // half windows, and a few deliveries held long (waiting out another handler's lease) do not
    // keep consumption off.
    await current.whenHeldAtMost(Math.floor(prefetch / 2), current.gone.signal);
    const mode = wantedMode();
    if (mode === 'stopped' || current.gone.signal.aborted) return;
    const wanted = mode === 'full' ? prefetch : 1;
    // The prefetch applies per consumer, to those created after it is set.
    await current.channel.prefetch(wanted);
    // A pause or a stop that came meanwhile: a consumer started now would be cancelled by the next
    // turn, after the broker had pushed it up to a window of messages to claim and give back.
    if (wantedMode() !== mode || current.gone.signal.aborted) return;
    current.consumerTag = (await current.channel.consume(queue, current.onMessage, consumeOptions)).consumerTag;
    current.mode = mode;
    log.info({ queue, prefetch: wanted }, 'consuming');
  }

  return {
    /** A new channel (after every (re)connect): consume on it as the pauses allow. */
    attach(
      channel: Channel,
      onMessage: Subscription['onMessage'],
      whenHeldAtMost: Subscription['whenHeldAtMost'],
    ): Promise<void> {
      subscription?.gone.abort();
      subscription = {
        channel,
        onMessage,
        whenHeldAtMost,
        gone: new AbortController(),
        consumerTag: undefined,
        mode: 'stopped',
      };
      return reconcile();
    },
    detach(channel: Channel): void {
      if (subscription?.channel !== channel) return;
      subscription.gone.abort();
      subscription = undefined;
    },
    mode: (): Mode => subscription?.mode ?? 'stopped',
    pausedBy: () => [...pausedBy.keys()],
    pause(reason: string, { oneAtATime = false }: { oneAtATime?: boolean } = {}): void {
      if (pausedBy.has(reason)) return;
      pausedBy.set(reason, oneAtATime);
      log.warn({ reason, pausedBy: [...pausedBy.keys()], oneAtATime }, 'consumption paused');
      void reconcile();
    },
    resume(reason: string): void {
      if (!pausedBy.delete(reason)) return;
      const stillPausedBy = [...pausedBy.keys()];
      log.info({ reason, stillPausedBy }, stillPausedBy.length === 0 ? 'consumption resumed' : 'still paused');
      void reconcile();
    },
    /** Takes no more messages, for good (shutdown). */
    stop(): Promise<void> {
      stopped = true;
      subscription?.gone.abort();
      return reconcile();
    },
  };
}
