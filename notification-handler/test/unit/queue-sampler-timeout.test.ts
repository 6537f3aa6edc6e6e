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
});
