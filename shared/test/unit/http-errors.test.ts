import { AppError, errorHandler, listen, notFound, type RunningServer } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('HTTP error shape', () => {
  const logs = captureLogs();
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.post('/echo', (req, res) => {
      res.json(req.body);
    });
    app.get('/conflict', () => {
      throw new AppError(409, 'conflict', 'already checked out');
    });
    app.get('/database-away', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    });
    app.get('/database-state/:code', (req) => {
      throw Object.assign(new Error(`database said ${req.params.code}`), { code: req.params.code });
    });
    app.get('/query-timeout', () => {
      throw new Error('Query read timeout');
    });
    app.get('/overloaded', () => {
      throw new AppError(503, 'overloaded', 'too many requests are waiting');
    });
    app.get('/bug', () => {
      throw new Error('postgres://app:hunter2@db/x exploded');
    });
    app.use(notFound);
    app.use(errorHandler(logs.log));
    server = await listen(app, { port: 0, host: '127.0.0.1', log: logs.log });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base}${path}`, init);
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  const post = (body: string) =>
    call('/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('When the JSON is malformed, then 400 malformed_json, not 500', async () => {
    expect(await post('{"a":')).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
  });

  it('When the body is over the limit, then 413', async () => {
    expect(await post(JSON.stringify({ a: 'x'.repeat(2_000) }))).toMatchObject({ status: 413 });
  });

  it('When a route throws an AppError, then its status and code are the answer', async () => {
    expect(await call('/conflict')).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: 'already checked out' } },
    });
  });

  it('When the database refuses connections, then 503 with Retry-After, logged at warn', async () => {
    const response = await call('/database-away');
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(response.headers.get('retry-after')).toBe('1');
    expect(logs.find('request refused: a dependency is unavailable')).toHaveLength(1);
  });

  it.each([
    ['a read-only standby during a failover', '25006'],
    ['a statement timeout', '57014'],
    ['too many connections', '53300'],
    ['a password no longer accepted', '28P01'],
    ['a grant taken from the service', '42501'],
  ])('When the database answers with %s, then 503 with Retry-After, not 500', async (_, code) => {
    const response = await call(`/database-state/${code}`);
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it.each([
    ['a deadlock', '40P01'],
    ['a serialization failure', '40001'],
  ])(
    'When the statement met a concurrent one (%s), then 503 asking to try again, logged at warn, not 500',
    async (_, code) => {
      const before = logs.find('request refused: it collided with a concurrent one').length;
      const response = await call(`/database-state/${code}`);
      expect(response).toMatchObject({ status: 503, body: { error: { code: 'concurrent_change' } } });
      expect(response.headers.get('retry-after')).toBe('1');
      expect(logs.find('request refused: it collided with a concurrent one')).toHaveLength(before + 1);
    },
  );

  it('When a statement outlives the client read timeout, then 503', async () => {
    expect(await call('/query-timeout')).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
  });

  it('When the database refuses the statement itself (a constraint), then 500: trying again would fail the same way', async () => {
    expect(await call('/database-state/23505')).toMatchObject({ status: 500, body: { error: { code: 'internal' } } });
  });

  it('When the service refuses on purpose (503 AppError), then Retry-After, and no line beyond the request line', async () => {
    const before = logs.find('request refused: a dependency is unavailable').length;
    const response = await call('/overloaded');
    expect(response).toMatchObject({ status: 503, body: { error: { code: 'overloaded' } } });
    expect(response.headers.get('retry-after')).toBe('1');
    expect(logs.find('request refused: a dependency is unavailable')).toHaveLength(before);
  });

  it('When a route has a bug, then 500 without details, and the log has no password', async () => {
    expect(await call('/bug')).toMatchObject({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error' } },
    });
    const logged = JSON.stringify(logs.find('request failed'));
    expect(logged).toContain('postgres://app:***@db/x');
    expect(logged).not.toContain('hunter2');
  });

  it('When the route is unknown, then 404 in the same shape', async () => {
    expect(await call('/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});
