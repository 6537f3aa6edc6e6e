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
  };
}
