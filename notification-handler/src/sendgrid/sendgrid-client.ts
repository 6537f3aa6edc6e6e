import http from 'node:http';
import https from 'node:https';
import { Client } from '@sendgrid/client';

export type SendGridSettings = {
  apiKey: string;
  /** https://api.sendgrid.com in production (https://api.eu.sendgrid.com for EU data); the sandbox locally. */
  apiUrl: string;
  timeoutMs: number;
};

/** An idle connection is closed after this long: well inside the keep-alive timeouts servers use. */
const IDLE_CONNECTION_MS = 5_000;

export type SendGridConnection = {
  client: Client;
  /** Closes the client's connections, idle or not: for a handler that stops, once its sends are over. */
  closeConnections: () => void;
};

/**
 * A Client of our own, not the module-wide singleton `@sendgrid/client` and `@sendgrid/mail`
 * export: two handlers in one process (tests) must not share a key, a URL or a timeout.
 * `setApiKey` resets the base URL to api.sendgrid.com, so ours is set after it. The client has no
 * timeout unless told (axios' 0), and no retry of its own.
 *
 * SendGrid takes one email per request, so up to PREFETCH requests run at once. On Node's global
 * agent every connection past its 256 idle ones was closed when its request ended and opened
 * again for the next burst (a TLS handshake each, in production): this agent keeps every idle
 * connection until it has been idle for IDLE_CONNECTION_MS, so their number follows the load.
 */
export function createSendGridClient({ apiKey, apiUrl, timeoutMs }: SendGridSettings): SendGridConnection {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', apiUrl);
  const agentOptions = {
    keepAlive: true,
    maxFreeSockets: Number.POSITIVE_INFINITY,
    timeout: IDLE_CONNECTION_MS,
    scheduling: 'lifo',
  } as const;
  const httpsAgent = new https.Agent(agentOptions);
  const httpAgent = new http.Agent(agentOptions);
  client.setDefaultRequest('httpsAgent', httpsAgent);
  // axios, underneath, takes `timeout`, and `httpAgent` for a plain-HTTP URL (the sandbox); the
  // client's types name neither.
  const setUntypedDefault = client.setDefaultRequest.bind(client) as (key: string, value: unknown) => Client;
  setUntypedDefault('httpAgent', httpAgent);
  setUntypedDefault('timeout', timeoutMs);
  return {
    client,
    closeConnections: () => {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}
