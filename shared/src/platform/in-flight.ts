/**
 * Work under way, counted until it settles, so that a stop can wait for it: deliveries being
 * handled, commands whose client may have left (the HTTP server counts connections, not commands).
 */
export type InFlight = {
  /** Counts `work` until it settles; gives it back. */
  track: <T>(work: Promise<T>) => Promise<T>;
  count: () => number;
  /** Resolves once everything tracked so far has settled, however it ended. */
  settled: () => Promise<void>;
};

export function createInFlight(): InFlight {
  const running = new Set<Promise<unknown>>();
  return {
    track(work) {
      running.add(work);
      const forget = () => {
        running.delete(work);
      };
      work.then(forget, forget);
      return work;
    },
    count: () => running.size,
    async settled() {
      await Promise.allSettled([...running]);
    },
  };
}
