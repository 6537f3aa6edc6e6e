/** The Mailjet sandbox's test API (`/sandbox/...`) over HTTP, for a sandbox running as a process. */
export type SandboxFaultSettings = {
  failNext?: number;
  status?: 429 | 500 | 502 | 503 | 504;
  failRate?: number;
  seed?: number;
  latencyMs?: number;
  hangNext?: number;
  resetNext?: number;
  failRecipients?: string | null;
  /** Calls beyond this many within the current one-second window answer a plain-text 429; null: no limit. */
  maxCallsPerSecond?: number | null;
  /** The Retry-After header (whole seconds) on every 429 the sandbox answers; null: none. */
  retryAfterSeconds?: number | null;
};

/** The calls to /v3.1/send since the sandbox started or its stats were reset (`GET /sandbox/stats`). */
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

export type SandboxMessage = Record<string, unknown> & { MessageID: string; CustomID?: string; receivedAt: string };

export type SandboxClient = {
  url: string;
  faults: () => Promise<Required<SandboxFaultSettings>>;
  /** Merges the given fields into the sandbox's fault settings (`POST /sandbox/faults`). */
  setFaults: (settings: SandboxFaultSettings) => Promise<Required<SandboxFaultSettings>>;
  clearFaults: () => Promise<void>;
  /** Every accepted message, or those with this CustomID (the notification's trackingId). */
  messages: (customId?: string) => Promise<SandboxMessage[]>;
  clearMessages: () => Promise<void>;
  /** Accepted messages per CustomID. */
  countByCustomId: () => Promise<Map<string, number>>;
  /** Counts of the calls the sandbox got on /v3.1/send (the provider calls the handler made). */
  stats: () => Promise<SandboxStats>;
  /** Starts counting from zero; answers the fresh counters. */
  resetStats: () => Promise<SandboxStats>;
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
  const messages = async (customId?: string) => {
    const query = customId === undefined ? '' : `?CustomID=${encodeURIComponent(customId)}`;
    return ((await call('GET', `/sandbox/messages${query}`)) as { messages: SandboxMessage[] }).messages;
  };
  return {
    url,
    faults: () => call('GET', '/sandbox/faults'),
    setFaults: (settings) => call('POST', '/sandbox/faults', settings),
    clearFaults: async () => {
      await call('DELETE', '/sandbox/faults');
    },
    messages,
    clearMessages: async () => {
      await call('DELETE', '/sandbox/messages');
    },
    countByCustomId: async () => {
      const counts = new Map<string, number>();
      for (const message of await messages()) {
        if (message.CustomID) counts.set(message.CustomID, (counts.get(message.CustomID) ?? 0) + 1);
      }
      return counts;
    },
    stats: () => call('GET', '/sandbox/stats'),
    resetStats: () => call('DELETE', '/sandbox/stats'),
  };
}
