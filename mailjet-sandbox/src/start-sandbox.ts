import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { basicAuthChecker } from './basic-auth.js';
import type { FaultSettingsInput } from './fault-settings.js';
import { FaultController, type SandboxFaults } from './faults.js';
import { DEFAULT_MAX_BODY_BYTES } from './json-body.js';
import { createMessageIdSequence, newUuid } from './mailjet-ids.js';
import { DEFAULT_MAX_STORED, DEFAULT_MAX_STORED_BYTES, MessageStore } from './message-store.js';
import { type SandboxStats, SendStats } from './send-stats.js';
import { createSandboxServer } from './server.js';

export const DEFAULT_API_KEY = 'sandbox-key';
export const DEFAULT_API_SECRET = 'sandbox-secret';
export const DEFAULT_HOST = '127.0.0.1';

export type SandboxOptions = {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  apiKey?: string;
  apiSecret?: string;
  /** The store keeps the newest this many messages... */
  maxStored?: number;
  /** ...and no more than this many bytes of them (as JSON), the oldest going first. */
  maxStoredBytes?: number;
  maxBodyBytes?: number;
  /** Faults in force from the first call. */
  faults?: FaultSettingsInput;
  /** How long `stop()` lets answers in flight finish before cutting their connections. */
  stopGraceMs?: number;
};

export type Sandbox = {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  host: string;
  apiKey: string;
  apiSecret: string;
  store: MessageStore;
  faults: SandboxFaults;
  /** The calls to /v3.1/send, as `GET /sandbox/stats` shows them. */
  stats: SandboxStats;
  stop: () => Promise<void>;
};

/** Starts a sandbox and resolves once it listens. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? DEFAULT_HOST;
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const apiSecret = options.apiSecret ?? DEFAULT_API_SECRET;
  const store = new MessageStore(
    options.maxStored ?? DEFAULT_MAX_STORED,
    options.maxStoredBytes ?? DEFAULT_MAX_STORED_BYTES,
  );
  const faults = new FaultController(options.faults);
  const stats = new SendStats();
  const hung = new Set<Socket>();
  const server = createSandboxServer({
    store,
    faults,
    stats,
    hung,
    isAuthorized: basicAuthChecker(apiKey, apiSecret),
    nextId: createMessageIdSequence(),
    nextUuid: newUuid,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopServer(server, hung, options.stopGraceMs ?? 2_000);
    return stopping;
  };
  return { url: `http://${urlHost(host)}:${port}`, port, host, apiKey, apiSecret, store, faults, stats, stop };
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
