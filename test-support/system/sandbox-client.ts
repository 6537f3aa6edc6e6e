/** The sandbox's test API (`/sandbox/...`) over HTTP, for a sandbox running as a process. */

/** The providers the sandbox speaks for; each has its own faults and counters. */
export type SandboxProvider = 'mailjet' | 'sendgrid';

export type SandboxFaultSettings = {
  /** The provider these settings are for; without it, `setFaults` applies them to both. */
  provider?: SandboxProvider;
  failNext?: number;
  status?: 429 | 500 | 502 | 503 | 504;
  failRate?: number;
  seed?: number;
  latencyMs?: number;
  hangNext?: number;
  resetNext?: number;
  failRecipients?: string | null;
  refuseSenders?: string | null;
  /** Calls beyond this many within the current one-second window answer a plain-text 429; null: no limit. */
  maxCallsPerSecond?: number | null;
  /** The Retry-After header (whole seconds) on every 429 the sandbox answers; null: none. */
  retryAfterSeconds?: number | null;
};

/** One provider's send calls since the sandbox started or its stats were reset (`GET /sandbox/stats`). */
export type SandboxStats = {
  calls: {
    /** Every call, counted as it arrives. */
    total: number;
    /** Calls answered, by HTTP status: `{ "200": n, "503": n }`. */
    byStatus: Record<string, number>;
    /** Calls whose connection the sandbox reset. */
    reset: number;
    /** Calls the sandbox held without an answer. */
    hang: number;
  };
  /** ISO time the counting started. */
  since: string;
};

/** Every message accepted since the start or the last clear, by tracking id (`GET /sandbox/tally`). */
type SandboxTally = { counts: Record<string, number>; untracked: number; complete: boolean; notCounted: number };

/**
 * An accepted message, as the sandbox keeps it: Mailjet's field names (`CustomID`) or SendGrid's
 * (`custom_args.trackingId`), with the provider that took it.
 */
export type SandboxMessage = Record<string, unknown> & {
  provider: SandboxProvider;
  MessageID: string;
  CustomID?: string;
  custom_args?: Record<string, string>;
  receivedAt: string;
};

/** The notification a sandbox message belongs to, whichever provider took it. */
export function trackingIdOf(message: SandboxMessage): string | undefined {
  return message.provider === 'sendgrid' ? message.custom_args?.trackingId : message.CustomID;
}

type FaultsAnswer = Required<Omit<SandboxFaultSettings, 'provider'>>;

export type SandboxClient = {
  url: string;
  /** One provider's fault settings (Mailjet's when none is named). */
  faults: (provider?: SandboxProvider) => Promise<FaultsAnswer>;
  /** Merges the given fields into `provider`'s fault settings, or both's without it (`POST /sandbox/faults`). */
  setFaults: (settings: SandboxFaultSettings) => Promise<FaultsAnswer>;
  /** Clears one provider's faults, or both's. */
  clearFaults: (provider?: SandboxProvider) => Promise<void>;
  /** Every accepted message, or those of this tracking id (Mailjet's CustomID, SendGrid's custom_args.trackingId), of one provider or both. */
  messages: (trackingId?: string, provider?: SandboxProvider) => Promise<SandboxMessage[]>;
  clearMessages: () => Promise<void>;
  /**
   * Accepted messages per tracking id, both providers together: a notification sent by each counts
   * twice. From the sandbox's tally, which counts the messages its store no longer keeps; throws
   * when the tally reached its bound (SANDBOX_MAX_TALLIED) and left some out.
   */
  countByCustomId: () => Promise<Map<string, number>>;
  /** Counts of the calls one provider's send endpoint got (Mailjet's when none is named). */
  stats: (provider?: SandboxProvider) => Promise<SandboxStats>;
  /** Starts counting from zero, one provider or both; answers the fresh counters. */
  resetStats: (provider?: SandboxProvider) => Promise<SandboxStats>;
};

export function sandboxClient(url: string, timeoutMs = 10_000): SandboxClient {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const query = (params: Record<string, string | undefined>) => {
    const given = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return given.length === 0 ? '' : `?${new URLSearchParams(given)}`;
  };
  const messages = async (trackingId?: string, provider?: SandboxProvider) => {
    const path = `/sandbox/messages${query({ trackingId, provider })}`;
    return ((await call('GET', path)) as { messages: SandboxMessage[] }).messages;
  };
  return {
    url,
    faults: (provider) => call('GET', `/sandbox/faults${query({ provider })}`),
    setFaults: (settings) => call('POST', '/sandbox/faults', settings),
    clearFaults: async (provider) => {
      await call('DELETE', `/sandbox/faults${query({ provider })}`);
    },
    messages,
    clearMessages: async () => {
      await call('DELETE', '/sandbox/messages');
    },
    countByCustomId: async () => {
      const tally = (await call('GET', '/sandbox/tally')) as SandboxTally;
      if (!tally.complete)
        throw new Error(
          `the sandbox's tally left ${tally.notCounted} messages uncounted: raise its SANDBOX_MAX_TALLIED`,
        );
      return new Map(Object.entries(tally.counts));
    },
    stats: (provider) => call('GET', `/sandbox/stats${query({ provider })}`),
    resetStats: (provider) => call('DELETE', `/sandbox/stats${query({ provider })}`),
  };
}
