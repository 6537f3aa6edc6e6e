import { captureLogs } from '@notify/test-support/logger.js';
import type { ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createQueueSampler } from '../../src/messaging/queue-sampler.js';

describe('queue sampler bound', () => {
  it('When the broker never answers, then each read gives NaN after the timeout, warned once, and stop ends the loop', async () => {
    const logs = captureLogs();
    const samples: number[] = [];
    const sampler = createQueueSampler({
      queues: ['work'],
      intervalMs: 5,
      timeoutMs: 50,
      onSample: (_queue, messages) => samples.push(messages),
      log: logs.log,
    });
    // A connection whose channel never opens: the read can only end by the timeout.
    const silentBroker = { createChannel: () => new Promise(() => undefined) } as unknown as ChannelModel;

    sampler.attach(silentBroker);
    while (samples.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await sampler.stop();

    expect(samples.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(logs.find('queue depth unavailable')).toHaveLength(1);
  });

  it('When it stops while a read of the first of two queues waits, then stop ends without waiting on the second', async () => {
    let reading: () => void = () => undefined;
    const firstRead = new Promise<void>((resolve) => {
      reading = resolve;
    });
    const silentChannel = {
      on: () => undefined,
      checkQueue: () => {
        reading();
        return new Promise(() => undefined);
      },
    };
    const sampler = createQueueSampler({
      queues: ['work', 'dead'],
      intervalMs: 60_000,
      // Longer than the test may take: only the stop may end a read.
      timeoutMs: 60_000,
      onSample: () => undefined,
      log: captureLogs().log,
    });

    sampler.attach({ createChannel: async () => silentChannel } as unknown as ChannelModel);
    await firstRead;

    await expect(sampler.stop()).resolves.toBeUndefined();
  });
});
