/**
 * Spaces provider calls evenly, at most `maxPerSecond`, so that a burst does not become a storm of
 * 429s; `pauseFor` holds every call back (a 429, with the provider's Retry-After when it gives one).
 * `stop` ends every wait and lets no call go after it: a call still waiting for its slot when the
 * handler stops would otherwise go out after the stop gave its message back to the queue.
 */
export function createCallRateLimiter({ maxPerSecond, now = Date.now }: { maxPerSecond: number; now?: () => number }) {
  const spacingMs = 1_000 / maxPerSecond;
  let nextSlotAt = 0;
  let stopped = false;
  const waits = new Set<() => void>();

  return {
    /** Waits for this call's slot: true when the call may go, false when the limiter stopped. */
    async take(): Promise<boolean> {
      if (stopped) return false;
      const slot = Math.max(now(), nextSlotAt);
      nextSlotAt = slot + spacingMs;
      const waitMs = slot - now();
      if (waitMs >= 1) {
        await new Promise<void>((resolve) => {
          const end = () => {
            clearTimeout(timer);
            waits.delete(end);
            resolve();
          };
          const timer = setTimeout(end, waitMs);
          waits.add(end);
        });
      }
      return !stopped;
    },
    pauseFor(ms: number): void {
      nextSlotAt = Math.max(nextSlotAt, now() + ms);
    },
    isStopped: () => stopped,
    stop(): void {
      stopped = true;
      for (const end of [...waits]) end();
    },
  };
}

export type CallRateLimiter = ReturnType<typeof createCallRateLimiter>;
