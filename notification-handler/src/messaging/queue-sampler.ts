import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@notify/shared/platform';
import type { Channel, ChannelModel } from 'amqplib';
import { withTimeout } from '../domain/abortable-sleep.js';

export type QueueSamplerSettings = {
  queues: readonly string[];
  intervalMs: number;
  /** Bound on one checkQueue: a broker that does not answer must not stall the sampling. */
  timeoutMs: number;
  /** Ready messages in the queue; NaN when it could not be read (a stale count would look healthy). */
  onSample: (queue: string, messages: number) => void;
  log: Logger;
};

export type QueueSampler = ReturnType<typeof createQueueSampler>;

/**
 * Reads the depth of the given queues every `intervalMs` with checkQueue, on a channel of its own:
 * a missing queue makes the broker close that channel (404), never the consumer's or the
 * publisher's. The channel is opened again at the next read. Sampling starts at the first
 * `attach` (the broker connection's setup) and ends with `stop`.
 */
export function createQueueSampler(settings: QueueSamplerSettings) {
  const { log } = settings;
  const stopped = new AbortController();
  const failing = new Set<string>();
  let model: ChannelModel | undefined;
  let channel: Promise<Channel> | undefined;
  let loop: Promise<void> | undefined;

  async function run(): Promise<void> {
    while (!stopped.signal.aborted) {
      for (const queue of settings.queues) settings.onSample(queue, await sample(queue));
      // Unref'd: a sampler must never be what keeps the process alive.
      await sleep(settings.intervalMs, undefined, { signal: stopped.signal, ref: false }).catch(() => undefined);
    }
  }

  async function sample(queue: string): Promise<number> {
    try {
      const { messageCount } = await bounded(openChannel().then((open) => open.checkQueue(queue)));
      if (failing.delete(queue)) log.info({ queue }, 'queue depth readable again');
      return messageCount;
    } catch (err) {
      dropChannel();
      if (stopped.signal.aborted) return Number.NaN;
      if (!failing.has(queue)) log.warn({ err, queue }, 'queue depth unavailable');
      failing.add(queue);
      return Number.NaN;
    }
  }

  function openChannel(): Promise<Channel> {
    if (!model) return Promise.reject(new Error('no broker connection'));
    if (!channel) {
      const opening = model.createChannel().then((opened) => {
        opened.on('error', (err) => log.debug({ err }, 'queue sampler channel error'));
        opened.on('close', () => {
          if (channel === opening) channel = undefined;
        });
        return opened;
      });
      channel = opening;
    }
    return channel;
  }

  function dropChannel(): void {
    const dropped = channel;
    channel = undefined;
    void dropped?.then((open) => open.close()).catch(() => undefined);
  }

  /**
   * Not `AbortSignal.any([stopped, AbortSignal.timeout()])`: Node 20 keeps a WeakRef in `stopped`
   * for each composite signal ever made from it, one per sample for the life of the process.
   * `withTimeout` runs its own timer and lets go of `stopped` when the read settles.
   */
  function bounded<T>(work: Promise<T>): Promise<T> {
    return withTimeout(stopped.signal, settings.timeoutMs, (signal) =>
      Promise.race([
        work,
        // After stop the signal is aborted before the read starts: its 'abort' event has passed.
        signal.aborted
          ? Promise.reject(new Error('sampler stopped'))
          : once(signal, 'abort').then(() => {
              throw new Error('checkQueue did not answer in time');
            }),
      ]),
    );
  }

  return {
    /** The connection (re)opened: sample on it, starting now. */
    attach(next: ChannelModel): void {
      model = next;
      channel = undefined;
      loop ??= run();
    },
    async stop(): Promise<void> {
      stopped.abort();
      await loop;
      dropChannel();
    },
  };
}
