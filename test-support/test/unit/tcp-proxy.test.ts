import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxyFor, startTcpProxy, type TcpProxy } from '../../tcp-proxy.js';
import { waitFor } from '../../wait.js';

describe('startTcpProxy', () => {
  let target: Server;
  let targetPort: number;
  let received: string;
  let proxy: TcpProxy;
  const clients: Socket[] = [];

  beforeEach(async () => {
    received = '';
    // An echo server that also records what reached it.
    target = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        received += chunk.toString();
        socket.write(chunk);
      });
    });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    targetPort = (target.address() as { port: number }).port;
    proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await proxy.close();
    target.close();
  });

  async function connectClient(): Promise<{ socket: Socket; echoed: () => string }> {
    const socket = tcpConnect({ host: proxy.host, port: proxy.port });
    clients.push(socket);
    let echoed = '';
    socket.on('data', (chunk) => {
      echoed += chunk.toString();
    });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    return { socket, echoed: () => echoed };
  }

  it('When a client sends through the proxy, then the target gets it and the answer comes back', async () => {
    const { socket, echoed } = await connectClient();

    socket.write('hello');

    await waitFor(() => (echoed() === 'hello' ? true : undefined), { what: 'the echo' });
    expect(received).toBe('hello');
    expect(proxy.openConnections).toBe(1);
  });

  it('When the proxy is cut, then open connections close and new ones are refused until restore', async () => {
    const { socket } = await connectClient();
    const closed = closeOf(socket);

    proxy.cut();

    await closed;
    const refused = tcpConnect({ host: proxy.host, port: proxy.port });
    refused.on('error', () => undefined);
    await closeOf(refused);
    expect(proxy.openConnections).toBe(0);

    proxy.restore();
    const { socket: again, echoed } = await connectClient();
    again.write('back');
    await waitFor(() => (echoed() === 'back' ? true : undefined), { what: 'the echo after restore' });
  });

  it('When the proxy is blackholed, then data waits until restore and then goes through', async () => {
    const { socket, echoed } = await connectClient();
    await waitFor(() => (proxy.openConnections === 1 ? true : undefined), { what: 'the proxied connection' });

    proxy.blackhole();
    await new Promise<void>((resolve) => socket.write('held', () => resolve()));
    // Long enough for the data to cross loopback many times over, had the proxy let it through.
    const arrived = waitFor(() => (received === '' ? undefined : true), {
      timeoutMs: 300,
      what: 'data while blackholed',
    });
    await expect(arrived).rejects.toThrow(/timed out/);
    proxy.restore();

    await waitFor(() => (echoed() === 'held' ? true : undefined), { what: 'the held data' });
    expect(socket.destroyed).toBe(false);
  });

  it('When the target does not answer, then the client connection is closed', async () => {
    const closedTarget = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: 1 });
    try {
      const socket = tcpConnect({ host: closedTarget.host, port: closedTarget.port });
      socket.on('error', () => undefined);

      await closeOf(socket);
      expect(closedTarget.openConnections).toBe(0);
    } finally {
      await closedTarget.close();
    }
  });
});

/** Resolves on 'close' whatever came before it; `events.once` would reject on the reset's 'error'. */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('proxyFor', () => {
  it('When a URL names a server, then the URL given back points at a proxy forwarding to it, credentials, path and query kept', async () => {
    const target = createServer((socket) => socket.end('hello'));
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    const port = (target.address() as { port: number }).port;

    const { proxy, url } = await proxyFor(`postgres://app:pw@127.0.0.1:${port}/orders?sslmode=disable`);
    try {
      expect(url).toBe(`postgres://app:pw@${proxy.host}:${proxy.port}/orders?sslmode=disable`);
      const socket = tcpConnect({ host: proxy.host, port: proxy.port });
      const [greeting] = await once(socket, 'data');
      expect(String(greeting)).toBe('hello');
      socket.destroy();
    } finally {
      await proxy.close();
      target.close();
    }
  });

  it('When the URL has no port and its scheme has no known default, then it says so', async () => {
    await expect(proxyFor('redis://127.0.0.1')).rejects.toThrow('no port in the redis: URL');
  });
});
