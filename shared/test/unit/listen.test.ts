import { connect } from 'node:net';
import { listen, type RunningServer } from '@notify/shared/platform';
import { captureLogs, silentLogger } from '@notify/test-support/logger.js';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

describe('listen', () => {
  let running: RunningServer | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('When no host is given, then the server binds loopback only, and its url answers', async () => {
    const app = express().get('/ping', (_req, res) => {
      res.send('pong');
    });

    running = await listen(app, { port: 0, log: silentLogger });

    expect(running.server.address()).toMatchObject({ address: '127.0.0.1', port: running.port });
    expect(running).toMatchObject({ host: '127.0.0.1', url: `http://127.0.0.1:${running.port}` });
    expect(await (await fetch(`${running.url}/ping`)).text()).toBe('pong');
  });

  it('When the host is the wildcard address, then the url still points at loopback', async () => {
    running = await listen(express(), { port: 0, host: '0.0.0.0', log: silentLogger });

    expect(running.host).toBe('0.0.0.0');
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
  });

  it('When a client stops halfway through its headers, then it gets 408 and its connection is closed', async () => {
    running = await listen(express(), {
      port: 0,
      log: silentLogger,
      requestTimeouts: { headersMs: 200, requestMs: 400, checkingIntervalMs: 50 },
    });

    const socket = connect(running.port, '127.0.0.1');
    socket.write('POST /carts HTTP/1.1\r\nHost: localhost\r\n');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    await new Promise((resolve) => socket.on('close', resolve));

    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('When the server reports errors after it listens, then each is logged and it goes on answering', async () => {
    const app = express().get('/ping', (_req, res) => {
      res.send('pong');
    });
    const { log, find } = captureLogs();
    running = await listen(app, { port: 0, log });

    const acceptFailed = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
    running.server.emit('error', acceptFailed);
    running.server.emit('error', acceptFailed);

    expect(find('http server error')).toHaveLength(2);
    expect(await (await fetch(`${running.url}/ping`)).text()).toBe('pong');
  });

  it('When a client is still sending its body as the server closes, then its connection is cut after the grace and the close ends', async () => {
    const server = await listen(express().use(express.json()), {
      port: 0,
      log: silentLogger,
      closeGraceMs: 200,
    });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /carts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    const cut = new Promise((resolve) => socket.once('close', resolve));

    // Without the grace, the request timeout (30 s) would hold the close, past this test's own.
    await server.close();

    await cut;
    expect(socket.destroyed).toBe(true);
  });
});
