import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { delayBefore, RetryError, retry } from '../../src/domain/retry.js';

class Transient extends Error {}
class Permanent extends Error {}

const shouldRetry = (error: unknown) => error instanceof Transient;

/** An operation that fails with the given errors in turn, then succeeds; it logs when each call happened. */
function scripted(failures: Error[]) {
  const callTimes: number[] = [];
  const operation = vi.fn(async () => {
    callTimes.push(Date.now());
    const failure = failures[callTimes.length - 1];
    if (failure) throw failure;
    return 'ok';
  });
  return { operation, callTimes };
}

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('When every call fails transiently, then it calls 1 + maxRetries times at the fixed interval and gives up', async () => {
    const { operation, callTimes } = scripted(Array.from({ length: 10 }, () => new Transient('down')));

    const result = retry(operation, { maxRetries: 3, delay: { kind: 'fixed', delayMs: 1_000 }, shouldRetry });
    const settled = expect(result).rejects.toBeInstanceOf(RetryError);
    await vi.runAllTimersAsync();
    await settled;

    expect(operation).toHaveBeenCalledTimes(4);
    expect(callTimes).toEqual([0, 1_000, 2_000, 3_000]);
  });

  it('When two calls fail then one succeeds, then it returns that result after two waits', async () => {
    const { operation, callTimes } = scripted([new Transient('a'), new Transient('b')]);

    const result = retry(operation, { maxRetries: 3, delay: { kind: 'fixed', delayMs: 500 }, shouldRetry });
    await vi.runAllTimersAsync();

    await expect(result).resolves.toBe('ok');
    expect(callTimes).toEqual([0, 500, 1_000]);
  });

  it('When the strategy is exponential, then each wait is a full-jitter draw under a doubling, capped ceiling', async () => {
    const { operation, callTimes } = scripted(Array.from({ length: 5 }, () => new Transient('down')));
    const random = () => 0.5;

    const result = retry(operation, {
      maxRetries: 4,
      delay: { kind: 'exponential', baseMs: 100, capMs: 300 },
      shouldRetry,
      random,
    });
    const settled = expect(result).rejects.toBeInstanceOf(RetryError);
    await vi.runAllTimersAsync();
    await settled;

    // ceilings 100, 200, 300 (capped), 300 → waits of half each
    expect(callTimes).toEqual([0, 50, 150, 300, 450]);
  });

  it('When a call fails permanently, then it is not retried', async () => {
    const { operation } = scripted([new Permanent('400')]);

    const result = retry(operation, { maxRetries: 3, delay: { kind: 'fixed', delayMs: 10 }, shouldRetry });

    await expect(result).rejects.toMatchObject({ aborted: false, errors: [expect.any(Permanent)] });
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('When it gives up, then the final error lists every attempt error in order', async () => {
    const errors = [new Transient('one'), new Transient('two'), new Permanent('three')];
    const { operation } = scripted(errors);

    const result = retry(operation, { maxRetries: 5, delay: { kind: 'fixed', delayMs: 10 }, shouldRetry });
    const settled = expect(result).rejects.toMatchObject({ errors });
    await vi.runAllTimersAsync();
    await settled;
  });

  it('When the signal aborts during a wait, then it ends at once without another call', async () => {
    const { operation } = scripted(Array.from({ length: 5 }, () => new Transient('down')));
    const controller = new AbortController();
    const onRetry = vi.fn(() => setTimeout(() => controller.abort(), 10));

    const result = retry(operation, {
      maxRetries: 3,
      delay: { kind: 'fixed', delayMs: 60_000 },
      shouldRetry,
      onRetry,
      signal: controller.signal,
    });
    const settled = expect(result).rejects.toMatchObject({ aborted: true });
    await vi.advanceTimersByTimeAsync(10);
    await settled;

    expect(Date.now()).toBe(10);
    expect(operation).toHaveBeenCalledTimes(1);
  });

  it('When it retries, then onRetry hears the attempt, its error and the coming delay', async () => {
    const first = new Transient('first');
    const { operation } = scripted([first]);
    const onRetry = vi.fn();

    const result = retry(operation, { maxRetries: 3, delay: { kind: 'fixed', delayMs: 250 }, shouldRetry, onRetry });
    await vi.runAllTimersAsync();
    await result;

    expect(onRetry).toHaveBeenCalledExactlyOnceWith({ attempt: 1, error: first, delayMs: 250 });
  });

  it('When maxRetries is 0, then a transient failure is final after one call', async () => {
    const { operation } = scripted([new Transient('down')]);
    await expect(
      retry(operation, { maxRetries: 0, delay: { kind: 'fixed', delayMs: 10 }, shouldRetry }),
    ).rejects.toBeInstanceOf(RetryError);
    expect(operation).toHaveBeenCalledTimes(1);
  });
});

describe('delayBefore', () => {
  it('When the random draw is at its top, then the exponential delay stays under its cap', () => {
    const strategy = { kind: 'exponential', baseMs: 1_000, capMs: 5_000 } as const;
    expect([1, 2, 3, 4, 10].map((attempt) => delayBefore(attempt, strategy, () => 0.999_999))).toEqual([
      999, 1_999, 3_999, 4_999, 4_999,
    ]);
  });
});

describe('retry with free failures', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('When some failures are free, then they cost no retry and no wait, and the budget counts only the others', async () => {
    class Free extends Error {}
    const failures = [
      new Free('breaker'),
      new Transient('down'),
      new Free('breaker'),
      new Free('breaker'),
      new Transient('down'),
    ];
    const { operation, callTimes } = scripted(failures);

    const result = retry(operation, {
      maxRetries: 1,
      delay: { kind: 'fixed', delayMs: 1_000 },
      shouldRetry: (error) => error instanceof Transient || error instanceof Free,
      isFree: (error) => error instanceof Free,
    });
    const settled = expect(result).rejects.toBeInstanceOf(RetryError);
    await vi.runAllTimersAsync();
    await settled;

    expect(operation).toHaveBeenCalledTimes(5);
    expect(callTimes).toEqual([0, 0, 1_000, 1_000, 1_000]);
  });

  it('When free failures go on for long, then the error kept is bounded: counted ones and the latest', async () => {
    class Free extends Error {}
    const free = Array.from({ length: 10_000 }, () => new Free('breaker'));
    const last = new Permanent('refused');
    const { operation } = scripted([new Transient('down'), ...free, last]);

    const result = retry(operation, {
      maxRetries: 3,
      delay: { kind: 'fixed', delayMs: 1 },
      shouldRetry: (error) => error instanceof Transient || error instanceof Free,
      isFree: (error) => error instanceof Free,
    });
    const settled = expect(result).rejects.toMatchObject({ errors: [expect.any(Transient), last], lastError: last });
    await vi.runAllTimersAsync();
    await settled;

    expect(operation).toHaveBeenCalledTimes(10_002);
  });
});
