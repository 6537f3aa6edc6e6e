import { Agent, request } from 'node:http';

export type JsonAnswer = { status: number; body: Record<string, unknown> | undefined };

/** The request got no answer within its timeout; `name` as an aborted fetch would have it. */
export class RequestTimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * POSTs JSON over keep-alive connections: node:http with an agent costs a load generator a
 * fraction of the CPU that fetch does, which matters when it shares two cores with the system it
 * measures. Rejects on socket errors (their `code`: ECONNREFUSED, ECONNRESET...) and on timeout.
 */
export class JsonClient {
  private readonly agent: Agent;
  private readonly defaultBase: URL;

  constructor(baseUrl: string, { sockets }: { sockets: number }) {
    this.defaultBase = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  post(path: string, body: unknown, { timeoutMs = 30_000, baseUrl }: { timeoutMs?: number; baseUrl?: string } = {}) {
    const base = baseUrl ? new URL(baseUrl) : this.defaultBase;
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(payload) };
    if (payload) headers['content-type'] = 'application/json';
    return new Promise<JsonAnswer>((resolve, reject) => {
      const req = request(
        { host: base.hostname, port: base.port, method: 'POST', path, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) }));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new RequestTimeoutError(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseBody(bytes: Buffer): Record<string, unknown> | undefined {
  const text = bytes.toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text.slice(0, 200) };
  }
}
