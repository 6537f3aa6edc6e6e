import type { Logger } from '@notify/shared/platform';
import type { Channel, ConsumeMessage } from 'amqplib';

/** full: PREFETCH in flight. one: a single message, to give a paused provider its probes. stopped: none. */
export type Mode = 'full' | 'one' | 'stopped';

type Subscription = {
  channel: Channel;
  onMessage: (delivery: ConsumeMessage | null) => void;
  consumerTag: string | undefined;
  mode: Mode;
};

/**
 * Whether, and how much, the consumer takes from its queue. Each reason to pause (the database, a
 * provider's breaker) is held until resumed; consumption runs at full prefetch only when none is
 * held. A reason may allow one message at a time: a provider whose breaker is open still needs a
 * real pending email for its probes when nothing else waits. Cancel and consume never overlap.
 */
export function createConsumptionSwitch({ queue, prefetch, log }: { queue: string; prefetch: number; log: Logger }) {
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
    const mode = wantedMode();
    if (!current || current.mode === mode) return;
    if (current.consumerTag !== undefined) {
      const tag = current.consumerTag;
      current.consumerTag = undefined;
      // Messages it delivered stay ours to ack after the cancel.
      await current.channel.cancel(tag);
    }
    current.mode = mode;
    if (mode === 'stopped') return;
    const wanted = mode === 'full' ? prefetch : 1;
    // The prefetch applies per consumer, to those created after it is set.
    await current.channel.prefetch(wanted);
    current.consumerTag = (await current.channel.consume(queue, current.onMessage)).consumerTag;
    log.info({ queue, prefetch: wanted }, 'consuming');
  }

  return {
    /** A new channel (after every (re)connect): consume on it as the pauses allow. */
    attach(channel: Channel, onMessage: Subscription['onMessage']): Promise<void> {
      subscription = { channel, onMessage, consumerTag: undefined, mode: 'stopped' };
      return reconcile();
    },
    detach(channel: Channel): void {
      if (subscription?.channel === channel) subscription = undefined;
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
      return reconcile();
    },
  };
}
