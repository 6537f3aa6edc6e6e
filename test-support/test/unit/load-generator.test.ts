import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadProblems, startLoad } from '../../system/load-generator.js';

describe('startLoad', () => {
  let server: Server;
  let baseUrl: string;
  let answerCarts: (res: ServerResponse) => void;
  let answerChange: (res: ServerResponse, path: string) => void;
  const cartsAnswered = (res: ServerResponse) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cartId: `c-${Math.random()}` }));
  };

  beforeEach(async () => {
    answerChange = (res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ notification: { trackingId: `t-${Math.random()}` } }));
    };
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/carts') return answerCarts(res);
        answerChange(res, req.url ?? '');
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

  it('When a change is answered 201 without a tracking id, then the load counts it as a problem, not as a failed request', async () => {
    answerCarts = cartsAnswered;
    answerChange = (res, path) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      const body = path.endsWith('/checkout')
        ? { orderId: 'o-1' }
        : { notification: { trackingId: `t-${Math.random()}` } };
      res.end(JSON.stringify(body));
    };
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 4 });

    const { stats, accepted } = await load.done;
    expect(accepted.size).toBe(4);
    expect(stats.untracked).toBe(4);
    expect(loadProblems(stats)).toEqual(['4 change(s) answered 201 without a notification tracking id']);
  });

  it('When an empty 201 answers a change, then it counts as untracked too', async () => {
    answerCarts = cartsAnswered;
    answerChange = (res) => {
      res.writeHead(201);
      res.end();
    };
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 3 });

    expect((await load.done).stats.untracked).toBe(3);
  });

  it('When the API answers the same tracking id for two changes, then the second is reported, not folded into the first', async () => {
    answerCarts = cartsAnswered;
    answerChange = (res, path) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      const trackingId = path.endsWith('/checkout') ? 'same-for-every-checkout' : `t-${Math.random()}`;
      res.end(JSON.stringify({ notification: { trackingId } }));
    };
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 3 });

    const { stats, accepted } = await load.done;
    expect(accepted.size).toBe(4);
    expect(stats.reusedTrackingIds).toEqual(['same-for-every-checkout', 'same-for-every-checkout']);
    expect(loadProblems(stats)).toEqual([
      '2 tracking id(s) answered for two changes: same-for-every-checkout, same-for-every-checkout',
    ]);
  });

  it('When every request is answered as it should, then the load has no problem to report', async () => {
    answerCarts = cartsAnswered;
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 200, maxCheckouts: 3 });

    expect(loadProblems((await load.done).stats)).toEqual([]);
  });

  it('When the schedule runs out, then the load says it is no longer running', async () => {
    answerCarts = cartsAnswered;
    const load = startLoad({ baseUrl, ratePerSecond: 100, durationMs: 300, maxCheckouts: 1_000 });

    expect(load.running).toBe(true);
    await load.done;
    expect(load.running).toBe(false);
  });
});
