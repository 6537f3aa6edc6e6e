import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { silentLogger } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createQueueSampler, type QueueSampler } from '../../src/messaging/queue-sampler.js';

describe('queue sampler (queue depths for /metrics)', () => {
  const prefix = uniquePrefix('sampler');
  const queue = `${prefix}work`;
  const missing = `${prefix}missing`;
  let broker: TestBroker;
  let sampler: QueueSampler | undefined;

  beforeAll(async () => {
    broker = await openTestBroker();
    await broker.channel.assertQueue(queue, { durable: false });
  });
  afterAll(async () => {
    await sampler?.stop();
    await broker.channel.deleteQueue(queue).catch(() => undefined);
    await broker.close();
  });

  it('When one queue is missing, then it reads NaN, the other its depth, and only the sampler channel is closed', async () => {
    for (const n of [1, 2, 3]) broker.channel.sendToQueue(queue, Buffer.from(String(n)));
    const samples = new Map<string, number[]>();
    sampler = createQueueSampler({
      queues: [missing, queue],
      intervalMs: 100,
      timeoutMs: 2_000,
      onSample: (name, messages) => samples.set(name, [...(samples.get(name) ?? []), messages]),
      log: silentLogger,
    });

    sampler.attach(broker.connection);
    // Two rounds: the channel closed by the missing queue is opened again for the next read.
    await waitFor(() => ((samples.get(queue)?.length ?? 0) >= 2 ? true : undefined), { what: 'two rounds' });

    expect(samples.get(missing)?.every(Number.isNaN)).toBe(true);
    expect(samples.get(queue)?.at(-1)).toBe(3);
    // The connection and its other channels carry on.
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(3);
  });

  it('When it samples round after round, then it makes no composite abort signal per read (Node 20 keeps each one)', async () => {
    await sampler?.stop();
    const any = vi.spyOn(AbortSignal, 'any');
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    let reads = 0;
    sampler = createQueueSampler({
      queues: [queue],
      intervalMs: 5,
      timeoutMs: 2_000,
      onSample: () => void reads++,
      log: silentLogger,
    });
    try {
      sampler.attach(broker.connection);
      await waitFor(() => (reads >= 30 ? true : undefined), { what: 'thirty reads' });

      expect(any).not.toHaveBeenCalled();
      expect(timeout).not.toHaveBeenCalled();
    } finally {
      any.mockRestore();
      timeout.mockRestore();
    }
  });
});
