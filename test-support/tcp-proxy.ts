import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export type TcpProxySettings = {
  targetHost: string;
  targetPort: number;
  /** Where the proxy listens; defaults to 127.0.0.1 and a free port. */
  listenHost?: string;
  listenPort?: number;
};

/**
 * What a fault test controls. Point the client at `host:port` instead of the real server.
 * - `cut()`: drops every open connection (a reset on both sides) and refuses new ones until
 *   `restore()`, like a server that went away.
 * - `blackhole()`: keeps connections open but forwards nothing either way, and lets new ones
 *   connect without ever answering, like a network partition (only timeouts and heartbeats notice).
 * - `restore()`: forwards again; connections taken during a blackhole resume where they stopped.
 * - `close()`: cuts everything and stops listening.
 */
export type TcpProxy = {
  host: string;
  port: number;
  /** Client connections currently open through the proxy. */
  readonly openConnections: number;
  /** Client connections accepted since start (refused ones not counted). */
  readonly acceptedConnections: number;
  cut: () => void;
  blackhole: () => void;
  restore: () => void;
  close: () => Promise<void>;
};

type Mode = 'forward' | 'cut' | 'blackhole';
type Pair = { client: Socket; upstream: Socket; flowing: boolean };

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'amqp:': 5672 };

/**
 * A proxy in front of the server that `url` names, and `url` pointed at the proxy (credentials,
 * path and query kept): what a fault test hands the code under test instead of the real address.
 */
export async function proxyFor(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(url);
  const targetPort = Number(target.port || DEFAULT_PORTS[target.protocol]);
  if (!targetPort) throw new Error(`no port in the ${target.protocol} URL, and no default known for it`);
  const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort });
  const proxied = new URL(url);
  proxied.hostname = proxy.host;
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}

export async function startTcpProxy(settings: TcpProxySettings): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: Mode = 'forward';
  let accepted = 0;

  const server = createServer({ pauseOnConnect: true }, (client) => {
    if (mode === 'cut') return client.resetAndDestroy();
    accepted += 1;
    pairs.add(openPair(client, settings, () => mode, pairs));
  });
  server.on('error', () => undefined);
  const port = await listenOn(server, settings.listenHost ?? '127.0.0.1', settings.listenPort ?? 0);

  const dropAll = () => {
    for (const pair of pairs) destroyPair(pair);
    pairs.clear();
  };

  return {
    host: settings.listenHost ?? '127.0.0.1',
    port,
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    cut: () => {
      mode = 'cut';
      dropAll();
    },
    blackhole: () => {
      mode = 'blackhole';
      for (const pair of pairs) setFlowing(pair, false);
    },
    restore: () => {
      mode = 'forward';
      for (const pair of pairs) setFlowing(pair, true);
    },
    close: async () => {
      mode = 'cut';
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function openPair(client: Socket, settings: TcpProxySettings, currentMode: () => Mode, pairs: Set<Pair>): Pair {
  const upstream = tcpConnect({ host: settings.targetHost, port: settings.targetPort });
  upstream.pause();
  const pair: Pair = { client, upstream, flowing: false };
  const end = () => {
    if (!pairs.delete(pair)) return;
    destroyPair(pair);
  };
  // Each side's failure ends both: a half-open proxied connection would hide the fault under test.
  for (const socket of [client, upstream]) {
    socket.on('error', end);
    socket.on('close', end);
  }
  // Data only flows once the upstream connection exists and the proxy is forwarding.
  upstream.once('connect', () => setFlowing(pair, currentMode() === 'forward'));
  return pair;
}

/**
 * Piping resumes a stream, and pipe's own backpressure handling resumes it again on 'drain', so a
 * paused pair is unpiped rather than only paused. What arrives meanwhile waits in the buffers.
 */
function setFlowing(pair: Pair, flowing: boolean): void {
  const { client, upstream } = pair;
  if (pair.flowing === flowing || upstream.connecting || client.destroyed || upstream.destroyed) return;
  pair.flowing = flowing;
  if (flowing) {
    client.pipe(upstream);
    upstream.pipe(client);
  } else {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  }
}

function destroyPair({ client, upstream }: Pair): void {
  if (!client.destroyed) client.resetAndDestroy();
  if (!upstream.destroyed) upstream.resetAndDestroy();
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
