import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { basicAuthChecker, bearerAuthChecker } from './basic-auth.js';
import { DEFAULT_MAX_TALLIED } from './delivery-tally.js';
import type { FaultSettingsInput } from './fault-settings.js';
import { DEFAULT_MAX_BODY_BYTES } from './json-body.js';
import { createMessageIdSequence, newUuid } from './mailjet-ids.js';
import { DEFAULT_MAX_STORED, DEFAULT_MAX_STORED_BYTES, MessageStore } from './message-store.js';
import { ProviderFaults, type SandboxFaults } from './provider-faults.js';
import { ProviderStats, type SandboxStats } from './send-stats.js';
import { DEFAULT_SENDGRID_MAX_BODY_BYTES, newSendGridMessageId } from './sendgrid-endpoint.js';
import { createSandboxServer } from './server.js';

export const DEFAULT_API_KEY = 'sandbox-key';
export const DEFAULT_API_SECRET = 'sandbox-secret';
/** "SG." first, as real keys: @sendgrid/client warns on the console about a key without it. */
export const DEFAULT_SENDGRID_API_KEY = 'SG.sandbox-key';
export const DEFAULT_HOST = '127.0.0.1';

export type SandboxOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  apiKey?: string;
  apiSecret?: string;
  /** The key SendGrid's endpoint accepts as `Authorization: Bearer <key>`. */
  sendgridApiKey?: string;
  /** The store keeps the newest this many messages... */
  maxStored?: number;
  /** ...and no more than this many bytes of them (as JSON), the oldest going first. */
  maxStoredBytes?: number;
  /** The tally counts the messages of at most this many tracking ids (`GET /sandbox/tally`). */
  maxTallied?: number;
  /** Mailjet's endpoint; 15 MB unless given. */
  maxBodyBytes?: number;
  /** SendGrid's endpoint; 30 MB unless given. */
  sendgridMaxBodyBytes?: number;
  /** Faults in force from the first call, for both providers. */
  faults?: FaultSettingsInput;
  /** How long `stop()` lets answers in flight finish before cutting their connections. */
  stopGraceMs?: number;
  /**
   * Hears the server's errors once it listens (a failed accept: too many open files, say); the
   * server goes on listening. Written to stderr unless given.
   */
  onServerError?: (error: Error) => void;
};

export type Sandbox = {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  host: string;
  apiKey: string;
  apiSecret: string;
  sendgridApiKey: string;
  /** Both providers' accepted messages. */
  store: MessageStore;
  /** Per provider; a setting without `provider` applies to both. */
  faults: SandboxFaults;
  /** The send calls per provider, as `GET /sandbox/stats?provider=` shows them. */
  stats: SandboxStats;
  /** Client connections open now, keep-alive ones waiting for their next request included. */
  openConnections: () => Promise<number>;
  stop: () => Promise<void>;
};

/** Starts a sandbox and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? DEFAULT_HOST;
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const apiSecret = options.apiSecret ?? DEFAULT_API_SECRET;
  const sendgridApiKey = options.sendgridApiKey ?? DEFAULT_SENDGRID_API_KEY;
  const store = new MessageStore(
    options.maxStored ?? DEFAULT_MAX_STORED,
    options.maxStoredBytes ?? DEFAULT_MAX_STORED_BYTES,
    options.maxTallied ?? DEFAULT_MAX_TALLIED,
  );
  const faults = new ProviderFaults(options.faults);
  const stats = new ProviderStats();
  const hung = new Set<Socket>();
  const server = createSandboxServer({
    store,
    faults,
    stats,
    hung,
    mailjet: {
      isAuthorized: basicAuthChecker(apiKey, apiSecret),
      nextId: createMessageIdSequence(),
      nextUuid: newUuid,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    },
    sendgrid: {
      isAuthorized: bearerAuthChecker(sendgridApiKey),
      nextMessageId: newSendGridMessageId,
      maxBodyBytes: options.sendgridMaxBodyBytes ?? DEFAULT_SENDGRID_MAX_BODY_BYTES,
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      // An 'error' with no listener would throw, and end the process the sandbox runs in.
      server.on('error', options.onServerError ?? writeServerError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopServer(server, hung, options.stopGraceMs ?? 2_000);
    return stopping;
  };
  const url = `http://${urlHost(host)}:${port}`;
  const openConnections = () =>
    new Promise<number>((resolve, reject) =>
      server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
  return { url, port, host, apiKey, apiSecret, sendgridApiKey, store, faults, stats, openConnections, stop };
}

function writeServerError(error: Error): void {
  console.error('mailjet-sandbox: http server error', error);
}

/**
 * Stops listening, drops idle keep-alive connections and the hung ones (they would never end),
 * lets answers in flight finish within the grace period, then cuts whatever is left.
 */
function stopServer(server: Server, hung: Set<Socket>, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
    for (const socket of hung) socket.destroy();
    hung.clear();
  });
}

/** A wildcard address is reachable on loopback; an IPv6 literal needs brackets in a URL. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
