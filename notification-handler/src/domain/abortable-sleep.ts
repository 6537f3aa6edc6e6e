/**
 * Resolves true after `ms`, or false as soon as the signal aborts. Not `setTimeout` from
 * `node:timers/promises`: vitest's fake timers replace the global `setTimeout` only, and the retry
 * loop's tests step through its waits with them.
 */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `work` with a signal that aborts when `parent` does or after `ms`. Not
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 a timeout signal that only a
 * composite refers to can be garbage-collected, and the composite then never aborts (a wait that
 * never ends). Here the timer is ours, and cleared when `work` settles.
 */
export async function withTimeout<T>(
  parent: AbortSignal,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort(parent.aborted ? parent.reason : new Error(`timed out after ${ms} ms`));
  const timer = setTimeout(abort, ms);
  parent.addEventListener('abort', abort, { once: true });
  if (parent.aborted) abort();
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', abort);
  }
}
