import { listen, type RunningServer } from '@notify/shared/platform';
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

    running = await listen(app, 0);

    expect(running.server.address()).toMatchObject({ address: '127.0.0.1', port: running.port });
    expect(running).toMatchObject({ host: '127.0.0.1', url: `http://127.0.0.1:${running.port}` });
    expect(await (await fetch(`${running.url}/ping`)).text()).toBe('pong');
  });

  it('When the host is the wildcard address, then the url still points at loopback', async () => {
    running = await listen(express(), 0, '0.0.0.0');

    expect(running.host).toBe('0.0.0.0');
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
  });
});
