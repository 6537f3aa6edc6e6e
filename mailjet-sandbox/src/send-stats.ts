/** What `GET /sandbox/stats` answers: the /v3.1/send calls since the start or the last reset. */
export type SendStatsSnapshot = {
  calls: {
    /** Every call, counted as it arrives. */
    total: number;
    /** Calls answered, by HTTP status ("200", "400", "429", "503"...). */
    byStatus: Record<string, number>;
    /** Calls whose connection was reset (`resetNext`). */
    reset: number;
    /** Calls held without an answer (`hangNext`). */
    hang: number;
  };
  since: string;
};

/** The part tests and the HTTP API use. */
export type SandboxStats = {
  current(): SendStatsSnapshot;
  reset(): SendStatsSnapshot;
};

/**
 * Counts calls to /v3.1/send, so that a test can tell how often a client called the provider (say
 * during an outage). A call still waiting for its answer (latency) or whose client went away before
 * it was answered is in `total` only.
 */
export class SendStats implements SandboxStats {
  private total = 0;
  private readonly byStatus = new Map<number, number>();
  private resets = 0;
  private hangs = 0;
  private since = new Date();

  onCall(): void {
    this.total += 1;
  }

  onAnswer(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  onReset(): void {
    this.resets += 1;
  }

  onHang(): void {
    this.hangs += 1;
  }

  current(): SendStatsSnapshot {
    return {
      calls: {
        total: this.total,
        byStatus: Object.fromEntries([...this.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n])),
        reset: this.resets,
        hang: this.hangs,
      },
      since: this.since.toISOString(),
    };
  }

  reset(): SendStatsSnapshot {
    this.total = 0;
    this.byStatus.clear();
    this.resets = 0;
    this.hangs = 0;
    this.since = new Date();
    return this.current();
  }
}
