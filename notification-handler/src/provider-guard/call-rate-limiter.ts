/**
 * Spaces provider calls evenly, at most `maxPerSecond`, so that a burst does not become a storm of
 * 429s; `pauseFor` holds every call back (a 429, with the provider's Retry-After when it gives one).
 */
export function createCallRateLimiter({ maxPerSecond, now = Date.now }: { maxPerSecond: number; now?: () => number }) {
  const spacingMs = 1_000 / maxPerSecond;
  let nextSlotAt = 0;

  return {
    /** Waits for this call's slot. */
    async take(): Promise<void> {
      const slot = Math.max(now(), nextSlotAt);
      nextSlotAt = slot + spacingMs;
      const waitMs = slot - now();
      if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    },
    pauseFor(ms: number): void {
      nextSlotAt = Math.max(nextSlotAt, now() + ms);
    },
  };
}

export type CallRateLimiter = ReturnType<typeof createCallRateLimiter>;
