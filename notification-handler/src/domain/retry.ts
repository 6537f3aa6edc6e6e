import { abortableSleep } from './abortable-sleep.js';

/**
 * A small retry loop: `1 + maxRetries` calls at most, a delay between them, and an abort signal
 * that ends a wait at once (shutdown must not sit out a retry interval). What is worth retrying
 * is the caller's call (`shouldRetry`): the loop knows nothing about HTTP or Mailjet.
 */
export type DelayStrategy =
  | { kind: 'fixed'; delayMs: number }
  /** Full jitter: a random delay in [0, min(capMs, baseMs * 2^(retry-1))). */
  | { kind: 'exponential'; baseMs: number; capMs: number };

export type RetryOptions = {
  maxRetries: number;
  delay: DelayStrategy;
  shouldRetry: (error: unknown) => boolean;
  /**
   * A retryable failure that costs no retry and no wait: it says nothing about the operation (the
   * caller waits elsewhere, e.g. for a breaker). Such attempts are bounded by the caller.
   */
  isFree?: (error: unknown) => boolean;
  onRetry?: (event: { attempt: number; error: unknown; delayMs: number }) => void;
  signal?: AbortSignal;
  /** Injectable for tests; Math.random otherwise. */
  random?: () => number;
};

export class RetryError extends Error {
  override readonly name = 'RetryError';
  constructor(
    message: string,
    /**
     * The counted attempts' errors, oldest first; a free failure is kept only while it is the
     * latest (a breaker open for hours makes one every probe, and they would pile up).
     */
    readonly errors: unknown[],
    readonly aborted: boolean,
  ) {
    super(message, { cause: errors.at(-1) });
  }

  get lastError(): unknown {
    return this.errors.at(-1);
  }
}

export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const errors: unknown[] = [];
  let previousWasFree = false;
  let spent = 0;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new RetryError('aborted before attempt', errors, true);
    try {
      return await operation(attempt);
    } catch (error) {
      if (previousWasFree) errors.pop();
      errors.push(error);
      if (!options.shouldRetry(error)) throw new RetryError(`attempt ${attempt} failed for good`, errors, false);
      previousWasFree = options.isFree?.(error) === true;
      if (previousWasFree) continue;
      spent += 1;
      if (spent > options.maxRetries) throw new RetryError(`gave up after ${attempt} attempts`, errors, false);
      const delayMs = delayBefore(spent, options.delay, options.random ?? Math.random);
      options.onRetry?.({ attempt, error, delayMs });
      if (!(await abortableSleep(delayMs, options.signal)))
        throw new RetryError('aborted while waiting to retry', errors, true);
    }
  }
}

/** The delay after failed attempt number `attempt` (1-based). */
export function delayBefore(attempt: number, strategy: DelayStrategy, random: () => number): number {
  if (strategy.kind === 'fixed') return strategy.delayMs;
  const ceiling = Math.min(strategy.capMs, strategy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
