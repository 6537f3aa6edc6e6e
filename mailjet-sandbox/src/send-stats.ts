import { providersNamed, SANDBOX_PROVIDERS, type SandboxProvider } from './providers.js';

/** What `GET /sandbox/stats` answers: one provider's send calls since the start or the last reset. */
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

/** The part tests and the HTTP API use: per provider, Mailjet's when none is named. */
export type SandboxStats = {
  current(provider?: SandboxProvider): SendStatsSnapshot;
  /** Starts the named provider's counters again, or both's; answers the first one's. */
  reset(provider?: SandboxProvider): SendStatsSnapshot;
};

/**
 * Counts one provider's send calls, so that a test can tell how often a client called the provider (say
 * during an outage). A call still waiting for its answer (latency) or whose client went away before
 * it was answered is in `total` only.
 */
export class SendStats {
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

/** The calls to /v3.1/send (Mailjet) and to /v3/mail/send (SendGrid), counted apart. */
export class ProviderStats implements SandboxStats {
  private readonly counters: Record<SandboxProvider, SendStats> = {
    mailjet: new SendStats(),
    sendgrid: new SendStats(),
  };

  of(provider: SandboxProvider): SendStats {
    return this.counters[provider];
  }

  current(provider: SandboxProvider = SANDBOX_PROVIDERS[0]): SendStatsSnapshot {
    return this.counters[provider].current();
  }

  reset(provider?: SandboxProvider): SendStatsSnapshot {
    const answers = providersNamed(provider, 'provider').map((name) => this.counters[name].reset());
    return answers[0] as SendStatsSnapshot;
  }
}
