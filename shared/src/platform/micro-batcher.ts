export type BatchRun<In, Out> = (items: In[]) => Promise<Out[]>;

export type MicroBatcherOptions<In> = {
  maxBatchSize: number;
  /** Batches in flight at once. While they run, new items gather into the next batch. */
  maxConcurrentBatches: number;
  /**
   * When a batch of several items fails with an error this accepts, each item runs again on its own,
   * one after another in the batch's place, so that one bad item fails alone and the others go on
   * (poison isolation) without more batches in flight than `maxConcurrentBatches`.
   */
  isolate?: (error: unknown) => boolean;
  /**
   * Awaited before a batch is formed (a provider's call-rate slot): items keep gathering during the
   * wait, so a paced provider gets full calls instead of many small ones queued behind its pace.
   */
  beforeBatch?: () => Promise<void>;
  /**
   * Items of one key go one per batch: one with a key already in the batch keeps its place for a
   * later one (a statement that may not touch one row twice).
   */
  keyOf?: (item: In) => string;
};

/** Submits an item; `queued()` counts the items not yet in a batch. */
export type MicroBatcher<In, Out> = ((item: In) => Promise<Out>) & { queued: () => number };

type Pending<In, Out> = { item: In; resolve: (out: Out) => void; reject: (error: unknown) => void };

/**
 * Turns many concurrent single calls into fewer batched ones (group commit). Items that arrive in
 * the same turn of the event loop go out together; under load, items gather while the allowed
 * batches are in flight, so batches grow with the load and add no wait when it is light.
 * `run` answers one result per item, in order; if it throws, every item of that batch rejects (unless
 * `isolate` sends them through one by one).
 */
export function createMicroBatcher<In, Out>(
  run: BatchRun<In, Out>,
  { maxBatchSize, maxConcurrentBatches, isolate, beforeBatch, keyOf }: MicroBatcherOptions<In>,
): MicroBatcher<In, Out> {
  let queue: Pending<In, Out>[] = [];
  let running = 0;
  /** Batches waiting for `beforeBatch`: each will take up to maxBatchSize of the queue. */
  let waiting = 0;
  let flushScheduled = false;

  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  function flush(): void {
    flushScheduled = false;
    while (queue.length > waiting * maxBatchSize && running < maxConcurrentBatches) {
      running += 1;
      if (beforeBatch) {
        waiting += 1;
        beforeBatch()
          .catch(() => undefined)
          .then(() => {
            waiting -= 1;
            startBatch();
          });
      } else startBatch();
    }
  }

  function startBatch(): void {
    const batch = takeBatch();
    const done = batch.length > 0 ? runBatch(batch) : Promise.resolve();
    done.finally(() => {
      running -= 1;
      if (queue.length > 0) scheduleFlush();
    });
  }

  function takeBatch(): Pending<In, Out>[] {
    if (!keyOf) {
      const batch = queue.slice(0, maxBatchSize);
      queue = queue.slice(batch.length);
      return batch;
    }
    const keys = new Set<string>();
    const batch: Pending<In, Out>[] = [];
    const left: Pending<In, Out>[] = [];
    for (const pending of queue) {
      const key = keyOf(pending.item);
      if (batch.length < maxBatchSize && !keys.has(key)) {
        keys.add(key);
        batch.push(pending);
      } else left.push(pending);
    }
    queue = left;
    return batch;
  }

  async function runBatch(batch: Pending<In, Out>[]): Promise<void> {
    try {
      const results = await run(batch.map((pending) => pending.item));
      if (results.length !== batch.length) throw new Error(`batch of ${batch.length} got ${results.length} results`);
      batch.forEach((pending, index) => {
        pending.resolve(results[index] as Out);
      });
    } catch (error) {
      // One after another: all at once, a batch of 100 would be 100 statements on a pool of 20,
      // queueing every other caller behind them past its connection timeout.
      if (batch.length > 1 && isolates(error)) for (const pending of batch) await runBatch([pending]);
      else for (const pending of batch) pending.reject(error);
    }
  }

  /** An `isolate` that throws must not leave a batch's callers unanswered: they get the batch's error. */
  function isolates(error: unknown): boolean {
    try {
      return isolate?.(error) === true;
    } catch {
      return false;
    }
  }

  const submit = (item: In) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      scheduleFlush();
    });
  return Object.assign(submit, { queued: () => queue.length });
}
