import { describe, expect, it } from 'vitest';
import { createMicroBatcher } from '../../src/platform/micro-batcher.js';

/** A batch runner whose batches the test releases by hand, recording what each contained. */
function controlledRunner() {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<string[]>((resolve) => {
      releases.push(() => resolve(items.map((item) => `result ${item}`)));
    });
  };
  return { run, batches, releaseNext: () => releases.shift()?.() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('micro-batcher', () => {
  it('When items arrive in the same turn, then they go out as one batch and each gets its own result', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher(runner.run, { maxBatchSize: 10, maxConcurrentBatches: 1 });

    const results = [1, 2, 3].map(submit);
    await tick();
    runner.releaseNext();

    expect(await Promise.all(results)).toEqual(['result 1', 'result 2', 'result 3']);
    expect(runner.batches).toEqual([[1, 2, 3]]);
  });

  it('When more items arrive than a batch holds, then they are split at the bound', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher(runner.run, { maxBatchSize: 2, maxConcurrentBatches: 5 });

    const results = [1, 2, 3, 4, 5].map(submit);
    await tick();
    for (let i = 0; i < 3; i++) runner.releaseNext();

    await Promise.all(results);
    expect(runner.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('When the allowed batches are in flight, then new items gather and go out together afterwards', async () => {
    const runner = controlledRunner();
    const submit = createMicroBatcher(runner.run, { maxBatchSize: 10, maxConcurrentBatches: 1 });

    const first = submit(1);
    await tick();
    const later = [2, 3, 4].map(submit);
    await tick();
    expect(runner.batches).toEqual([[1]]);
    runner.releaseNext();
    await first;
    while (runner.batches.length < 2) await tick();
    runner.releaseNext();

    expect(await Promise.all(later)).toEqual(['result 2', 'result 3', 'result 4']);
    expect(runner.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('When items of one key wait together, then each batch takes one of them and the rest keep their place', async () => {
    const batches: string[][] = [];
    const releases: Array<() => void> = [];
    const submit = createMicroBatcher(
      (items: string[]) => {
        batches.push(items);
        return new Promise<string[]>((resolve) => releases.push(() => resolve(items)));
      },
      { maxBatchSize: 10, maxConcurrentBatches: 1, keyOf: (item: string) => item.split('-')[0] as string },
    );

    const results = ['a-1', 'b-1', 'a-2', 'c-1', 'a-3'].map(submit);
    expect(submit.queued()).toBe(5);
    await tick();
    expect(submit.queued()).toBe(2);
    while (batches.length < 3) {
      releases.shift()?.();
      await tick();
    }
    releases.shift()?.();

    expect(await Promise.all(results)).toEqual(['a-1', 'b-1', 'a-2', 'c-1', 'a-3']);
    expect(batches).toEqual([['a-1', 'b-1', 'c-1'], ['a-2'], ['a-3']]);
    expect(submit.queued()).toBe(0);
  });

  it('When a batch fails, then its items reject and the next batch still runs', async () => {
    let calls = 0;
    const submit = createMicroBatcher(
      async (items: number[]) => {
        calls += 1;
        if (calls === 1) throw new Error('database away');
        return items.map((item) => item * 10);
      },
      { maxBatchSize: 10, maxConcurrentBatches: 1 },
    );

    const failed = [1, 2].map(submit);
    await expect(Promise.all(failed)).rejects.toThrow('database away');
    await expect(submit(3)).resolves.toBe(30);
  });

  it('When the runner answers the wrong number of results, then every item of the batch rejects', async () => {
    const submit = createMicroBatcher(async () => ['only one'], { maxBatchSize: 10, maxConcurrentBatches: 1 });
    const results = [1, 2].map((item) => submit(item).catch((error: Error) => error.message));
    expect(await Promise.all(results)).toEqual(['batch of 2 got 1 results', 'batch of 2 got 1 results']);
  });

  it('When a batch fails with an error to isolate, then each item runs alone and only the bad one fails', async () => {
    const batches: number[][] = [];
    const submit = createMicroBatcher(
      async (items: number[]) => {
        batches.push(items);
        if (items.includes(2)) throw new Error(items.length > 1 ? 'batch refused' : `item ${items[0]} refused`);
        return items.map((item) => `result ${item}`);
      },
      { maxBatchSize: 10, maxConcurrentBatches: 1, isolate: (error) => (error as Error).message.includes('refused') },
    );

    const results = await Promise.allSettled([1, 2, 3].map(submit));

    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)),
    ).toEqual(['result 1', 'item 2 refused', 'result 3']);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('When a batch fails with an error to isolate, then its items run again one at a time, never more batches in flight than allowed', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const submit = createMicroBatcher(
      async (items: number[]) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        await tick();
        inFlight -= 1;
        if (items.includes(2)) throw new Error('refused');
        return items.map((item) => `result ${item}`);
      },
      { maxBatchSize: 10, maxConcurrentBatches: 2, isolate: () => true },
    );

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => submit(index + 1)));

    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(1);
    expect(mostInFlight).toBe(2);
  });

  it('When the isolate check itself throws, then every item of the batch fails with the batch error, none left waiting', async () => {
    const submit = createMicroBatcher(
      async (_items: number[]): Promise<string[]> => {
        throw new Error('batch refused');
      },
      {
        maxBatchSize: 10,
        maxConcurrentBatches: 1,
        isolate: () => {
          throw new Error('observer broke');
        },
      },
    );

    const results = await Promise.allSettled([1, 2].map(submit));

    expect(results).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ message: 'batch refused' }) },
      { status: 'rejected', reason: expect.objectContaining({ message: 'batch refused' }) },
    ]);
  });

  it('When a batch fails with an error not to isolate, then every item of it fails with that error', async () => {
    let calls = 0;
    const submit = createMicroBatcher(
      async (_items: number[]): Promise<string[]> => {
        calls += 1;
        throw new Error('connection lost');
      },
      { maxBatchSize: 10, maxConcurrentBatches: 1, isolate: (error) => (error as Error).message.includes('refused') },
    );

    const results = await Promise.allSettled([1, 2].map(submit));

    expect(results).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ message: 'connection lost' }) },
      { status: 'rejected', reason: expect.objectContaining({ message: 'connection lost' }) },
    ]);
    expect(calls).toBe(1);
  });

  it('When each batch waits for a slot first, then what arrives during the wait goes into that batch', async () => {
    const batches: number[][] = [];
    const slots: Array<() => void> = [];
    const submit = createMicroBatcher(
      async (items: number[]) => {
        batches.push(items);
        return items.map((item) => `result ${item}`);
      },
      {
        maxBatchSize: 10,
        maxConcurrentBatches: 4,
        beforeBatch: () => new Promise<void>((resolve) => slots.push(resolve)),
      },
    );

    const first = submit(1);
    await tick();
    const later = [2, 3, 4].map(submit);
    await tick();
    slots.shift()?.();

    expect(await Promise.all([first, ...later])).toEqual(['result 1', 'result 2', 'result 3', 'result 4']);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });
});
