import http from 'node:http';
import https from 'node:https';
import mailjet from 'node-mailjet';

// node-mailjet is CommonJS: Node gives its exports object as the default import, Client on it.
const { Client } = mailjet;
export type MailjetClient = InstanceType<typeof Client>;

export type MailjetSettings = {
  apiKey: string;
  apiSecret: string;
  /** https://api.mailjet.com in production; a plain-HTTP URL for the local sandbox. */
  apiUrl: string;
  timeoutMs: number;
};

/**
 * node-mailjet always builds `https://<host>/...`. For a plain-HTTP endpoint (the sandbox) we use
 * its per-client proxy option: the request then goes to that host over HTTP with the absolute
 * Mailjet URL as target. The other way, overriding `Mailjet.Request.protocol`, is process-wide.
 */
export function createMailjetClient({ apiKey, apiSecret, apiUrl, timeoutMs }: MailjetSettings): MailjetClient {
  const url = new URL(apiUrl);
  if (url.protocol === 'https:') {
    return new Client({ apiKey, apiSecret, config: { host: url.host }, options: { timeout: timeoutMs } });
  }
  return new Client({
    apiKey,
    apiSecret,
    options: {
      timeout: timeoutMs,
      proxy: { protocol: 'http', host: url.hostname, port: Number(url.port || 80) },
    },
  });
}

/**
 * node-mailjet passes its HTTP client no agent of ours (of its options only the timeout, the proxy
 * and the headers reach a request), so its connections are Node's global agents' keep-alive ones.
 * Only the idle ones are closed: a request in flight, ours or another module's in this process,
 * ends on its own, and a later request opens a connection again.
 */
export function closeIdleMailjetConnections(): void {
  for (const agent of [http.globalAgent, https.globalAgent]) {
    for (const sockets of Object.values(agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }
}
