/**
 * Spaces provider calls evenly, at most `maxPerSecond`, so that a burst does not become a storm of
 * 429s; `pauseFor` holds every call back (a 429, with the provider's Retry-After when it gives one),
 * those already waiting for a slot included, for at most `maxPauseWaitMs` in all: a call waits
 * holding its row's lease, which nothing renews meanwhile, and 429 after 429 would otherwise keep it
 * waiting past the lease. `stop` ends every wait and lets no call go after it: a call still waiting
 * for its slot when the handler stops would otherwise go out after the stop gave its message back to
 * the queue.
 */
export function createCallRateLimiter({
  maxPerSecond,
  maxPauseWaitMs = Number.POSITIVE_INFINITY,
  now = Date.now,
}: {
  maxPerSecond: number;
  maxPauseWaitMs?: number;
  now?: () => number;
}) {
  const spacingMs = 1_000 / maxPerSecond;
  let nextSlotAt = 0;
  let pausedUntil = 0;
  let stopped = false;
  const waits = new Set<() => void>();

  function wait(ms: number): Promise<void> {
    if (ms < 1) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        waits.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      waits.add(end);
    });
  }

  return {
    /** Waits for this call's slot: true when the call may go, false when the limiter stopped. */
    async take(): Promise<boolean> {
      const askedAt = now();
      while (!stopped) {
        const slot = Math.max(now(), nextSlotAt);
        nextSlotAt = slot + spacingMs;
        await wait(slot - now());
        // A pause that began while this call waited for its slot holds it back too: the provider
        // asked for every call to wait, and hundreds may be queued at a high call budget. It takes
        // a slot after the pause, behind the calls that queued in the meantime.
        if (pausedUntil - now() < 1 || now() - askedAt >= maxPauseWaitMs) return !stopped;
      }
      return false;
    },
    pauseFor(ms: number): void {
      pausedUntil = Math.max(pausedUntil, now() + ms);
      nextSlotAt = Math.max(nextSlotAt, pausedUntil);
    },
    isStopped: () => stopped,
    stop(): void {
      stopped = true;
      for (const end of [...waits]) end();
    },
  };
}

export type CallRateLimiter = ReturnType<typeof createCallRateLimiter>;
