import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLoad } from '../../system/load-generator.js';

describe('startLoad', () => {
  let server: Server;
  let baseUrl: string;
  let answerCarts: (res: ServerResponse) => void;

  beforeEach(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/carts') return answerCarts(res);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ notification: { trackingId: `t-${Math.random()}` } }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('When the load ends before the awaited number of checkouts, then it says how its flows failed', async () => {
    answerCarts = (res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"database unavailable"}');
    };
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 10 });

    await expect(load.untilCompleted(5)).rejects.toThrow(
      /the load ended before 5 checkouts completed: 10 started, 0 completed, 10 failed, 0 skipped; failures \{"cart: 503":10\}/,
    );
  });

  it('When enough checkouts completed, then it resolves, each having accepted two notifications', async () => {
    answerCarts = (res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ cartId: `c-${Math.random()}` }));
    };
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 10 });

    await load.untilCompleted(5);
    const result = await load.done;
    expect(result.stats).toMatchObject({ started: 10, completed: 10, failed: 0 });
    expect(result.accepted.size).toBe(20);
  });
});
