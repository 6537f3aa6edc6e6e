import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { errorHandler, listen, type RunningServer, rejectWhileDraining } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

// What a test needs to see that an object can be collected: V8 takes the flag after start-up too.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Far past this file's test timeout (5 s): a close that waited for it would fail the test. */
const LONG_GRACE_MS = 30_000;

/**
 * Listens with the long grace. Node's own keep-alive timeout (5 s) would end an idle connection by
 * itself, in about this file's test timeout; a client that keeps asking on its connection (a
 * browser) never lets it, and this one stands for such a client.
 */
async function listenWithLongGrace(app: express.Express): Promise<RunningServer> {
  const running = await listen(app, { port: 0, log: silentLogger, closeGraceMs: LONG_GRACE_MS });
  running.server.keepAliveTimeout = LONG_GRACE_MS;
  return running;
}

/** Holds a route's answer until the test releases it; `reached` resolves once a request waits. */
function answerGate() {
  let release: () => void = () => undefined;
  let arrived: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hold = async () => {
    arrived();
    await released;
  };
  return { hold, reached, release };
}

/** A raw keep-alive client: everything it read, and a promise for its connection's end. */
async function keepAliveClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  let read = '';
  socket.on('data', (chunk) => {
    read += chunk.toString();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, read: () => read, closed };
}

describe('listen: closing with keep-alive clients', () => {
  let running: RunningServer | undefined;
  afterEach(() => {
    // A failed test leaves the server holding the client until the grace; nothing to wait for.
    running?.server.closeAllConnections();
    running = undefined;
  });

  it('When a keep-alive request is under way as the server closes, then its answer says Connection: close, its connection closes after it, and the close ends without the grace', async () => {
    const held = answerGate();
    const app = express().get('/held', async (_req, res) => {
      await held.hold();
      res.json({ scraped: true });
    });
    running = await listenWithLongGrace(app);
    const client = await keepAliveClient(running.port);
    client.socket.write('GET /held HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await held.reached;

    const closed = running.close();
    held.release();

    await client.closed;
    await closed;
    expect(client.read()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.read()).toMatch(/\r\nConnection: close\r\n/i);
    expect(client.read()).toMatch(/\{"scraped":true\}$/);
  });

  it('When an answer had begun before the server closed, then its connection closes once that answer is out', async () => {
    const held = answerGate();
    const app = express().get('/begun', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first ');
      await held.hold();
      res.end('rest');
    });
    running = await listenWithLongGrace(app);
    const client = await keepAliveClient(running.port);
    client.socket.write('GET /begun HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await held.reached;
    await new Promise<void>((resolve) => client.socket.once('data', () => resolve()));

    const closed = running.close();
    held.release();

    await client.closed;
    await closed;
    // Its headers had promised the connection for more requests: closing it is all that is left.
    expect(client.read()).toMatch(/\r\nConnection: keep-alive\r\n/i);
    expect(client.read()).toMatch(/\r\nrest\r\n0\r\n\r\n$/);
  });

  it('When a client pipelined a command behind a request under way as the server closes, then both are answered, the last saying Connection: close', async () => {
    const held = answerGate();
    const command = answerGate();
    const app = express()
      .get('/held', async (_req, res) => {
        await held.hold();
        res.json({ scraped: true });
      })
      .post('/command', async (_req, res) => {
        await command.hold();
        res.status(201).json({ committed: true });
      });
    running = await listenWithLongGrace(app);
    const client = await keepAliveClient(running.port);
    client.socket.write(
      'GET /held HTTP/1.1\r\nHost: localhost\r\n\r\nPOST /command HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n',
    );
    await held.reached;
    await command.reached;

    const closed = running.close();
    command.release();
    held.release();

    await client.closed;
    await closed;
    const [first, second] = client.read().split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"scraped":true\}$/);
    expect(first).toMatch(/\r\nConnection: keep-alive\r\n/i);
    // The command ran: an answer dropped would have its client send it again.
    expect(second).toMatch(/^HTTP\/1\.1 201 Created\r\n[\s\S]*\{"committed":true\}$/);
    expect(second).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('When a client leaves before the answer to its pipelined request had its turn, then the server keeps nothing of that answer', async () => {
    const held = answerGate();
    let queuedAnswer: WeakRef<object> | undefined;
    let queuedRan: () => void = () => undefined;
    const queued = new Promise<void>((resolve) => {
      queuedRan = resolve;
    });
    let serverSideClosed: Promise<void> | undefined;
    const app = express()
      .get('/held', async (req, res) => {
        serverSideClosed = new Promise((resolve) => req.socket.once('close', () => resolve()));
        await held.hold();
        res.json({ scraped: true });
      })
      .get('/queued', (_req, res) => {
        queuedAnswer = new WeakRef(res);
        // Queued behind /held's answer: Node never sends it, nor emits its 'close'.
        res.json({ queued: true });
        queuedRan();
      });
    running = await listenWithLongGrace(app);
    const client = await keepAliveClient(running.port);
    client.socket.write('GET /held HTTP/1.1\r\nHost: localhost\r\n\r\nGET /queued HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await held.reached;
    await queued;

    client.socket.destroy();
    await serverSideClosed;
    held.release();
    // A WeakRef holds its object until the turn that made or read it ends.
    for (let turn = 0; turn < 3; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      collectGarbage();
    }

    expect(queuedAnswer?.deref()).toBeUndefined();
  });
});

describe('rejectWhileDraining', () => {
  it('When a request arrives while the service drains, then it gets the 503 shutting_down and a closed connection; before, it is served', async () => {
    let draining = false;
    const app = express()
      .use(rejectWhileDraining(() => draining))
      .get('/ping', (_req, res) => {
        res.send('pong');
      })
      .use(errorHandler(silentLogger));
    const running = await listen(app, { port: 0, log: silentLogger });
    try {
      expect(await (await fetch(`${running.url}/ping`)).text()).toBe('pong');

      draining = true;
      const refused = await fetch(`${running.url}/ping`);

      expect(refused.status).toBe(503);
      expect(refused.headers.get('connection')).toBe('close');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({
        error: { code: 'shutting_down', message: 'the service is shutting down; retry' },
      });
    } finally {
      await running.close();
    }
  });
});
