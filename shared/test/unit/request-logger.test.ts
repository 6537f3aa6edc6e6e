import type { AddressInfo } from 'node:net';
import { AppError, errorHandler, requestLogger, traceRequests } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

type Running = { url: string; close: () => Promise<void> };
const running: Running[] = [];

/** An app with the request logger as the services mount it, and a few routes to answer with. */
async function serve(level?: string) {
  const capture = captureLogs(level);
  let arrivedAtNever: () => void = () => undefined;
  const neverAnswered = new Promise<void>((resolve) => {
    arrivedAtNever = resolve;
  });
  const app = express();
  app.use(traceRequests());
  app.use(requestLogger(capture.log));
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.get('/carts/:id', (_req, res) => void res.json({ ok: true }));
  app.get('/never', () => arrivedAtNever());
  app.get('/missing', () => {
    throw new AppError(404, 'not_found', 'no such thing');
  });
  app.get('/broken', () => {
    throw new Error('database exploded');
  });
  app.use(errorHandler(capture.log));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  running.push({ url, close: () => new Promise((resolve) => server.close(() => resolve())) });
  return { ...capture, url, neverAnswered };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

describe('requestLogger', () => {
  it('When a request succeeds, then one info line gives its method, path with query, status, time and trace id', async () => {
    const { url, find, waitFor } = await serve();

    await fetch(`${url}/carts/c1?view=full`, { headers: { traceparent: TRACEPARENT } });
    const line = await waitFor('request completed');

    expect(line).toMatchObject({
      level: 30,
      req: { method: 'GET', url: '/carts/c1?view=full' },
      res: { statusCode: 200 },
      traceId: '0af7651916cd43dd8448eb211c80319c',
    });
    expect(typeof (line.req as { id: unknown }).id).toBe('number');
    expect(typeof line.responseTime).toBe('number');
    expect(find('request completed')).toHaveLength(1);
  });

  it('When a query names an email address, then the request line masks it and keeps the rest of the query', async () => {
    const { url, waitFor } = await serve();

    await fetch(
      `${url}/carts/c1?email=${encodeURIComponent('ada.lovelace@example.com')}&status=failed&to=bob@example.org`,
    );
    const line = await waitFor('request completed');

    expect(line.req).toMatchObject({ url: '/carts/c1?email=a***%40e***.com&status=failed&to=b***%40e***.org' });
    expect(JSON.stringify(line)).not.toMatch(/lovelace|example\.com|bob/);
  });

  it('When an address in the query has a + that was not encoded, then none of it is left in clear', async () => {
    const { url, waitFor } = await serve();

    await fetch(`${url}/notifications?email=alice.smith+tickets@example.com`);
    const line = await waitFor('request completed');

    expect(line.req).toMatchObject({ url: '/notifications?email=a***%40e***.com' });
    expect(JSON.stringify(line)).not.toMatch(/smith|tickets|example\.com/);
  });

  it('When a query carries a parameter named as a secret, then the request line redacts its value and keeps the rest', async () => {
    const { url, waitFor } = await serve();

    await fetch(`${url}/notifications?access_token=tok-3f9a2c&status=failed&api_key=key-77b1`);
    const line = await waitFor('request completed');

    expect(line.req).toMatchObject({
      url: '/notifications?access_token=%5Bredacted%5D&status=failed&api_key=%5Bredacted%5D',
    });
    expect(JSON.stringify(line)).not.toMatch(/tok-3f9a2c|key-77b1/);
  });

  it('When the path names an email address (an id mistyped as one), then the request line masks it there too', async () => {
    const first = await serve();
    const second = await serve();

    await fetch(`${first.url}/carts/ada.lovelace@example.com`);
    await fetch(`${second.url}/carts/${encodeURIComponent('grace.hopper@example.org')}?view=full`);
    const [plain, encoded] = [await first.waitFor('request completed'), await second.waitFor('request completed')];

    expect(plain.req).toMatchObject({ url: '/carts/a***@e***.com' });
    expect(encoded.req).toMatchObject({ url: '/carts/g***@e***.org?view=full' });
    expect(JSON.stringify([plain, encoded])).not.toMatch(/lovelace|hopper|example\.(com|org)/);
  });

  it('When a request is answered 4xx, then its line is a warning; 5xx, an error, and the failure line carries the same request id and trace id', async () => {
    const { url, find, waitFor } = await serve();

    await fetch(`${url}/missing`);
    await fetch(`${url}/broken`, { headers: { traceparent: TRACEPARENT } });
    await waitFor('request failed');
    await expect.poll(() => find('request completed').length).toBe(2);

    const [missing, broken] = find('request completed');
    expect(missing).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(broken).toMatchObject({ level: 50, res: { statusCode: 500 } });
    const failure = find('request failed')[0];
    expect(failure).toMatchObject({ req: broken?.req, traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(JSON.stringify(failure?.err)).toContain('database exploded');
  });

  it('When probes and scrapes come, then they write no line', async () => {
    const { url, lines } = await serve();

    await fetch(`${url}/healthz`);
    await fetch(`${url}/carts/c1`);
    await expect.poll(() => lines.length).toBe(1);

    expect(lines.map((line) => (line.req as { url: string }).url)).toEqual(['/carts/c1']);
  });

  it('When the level is warn, then a success writes nothing and a 4xx still writes its line', async () => {
    const { url, lines, waitFor } = await serve('warn');

    await fetch(`${url}/carts/c1`);
    await fetch(`${url}/missing`);
    await waitFor('request completed');

    expect(lines.map((line) => line.res)).toEqual([{ statusCode: 404 }]);
  });

  it('When the client goes away before the answer, then a warning says so', async () => {
    const { url, waitFor, neverAnswered } = await serve();
    const client = new AbortController();

    const request = fetch(`${url}/never`, { signal: client.signal }).catch(() => undefined);
    await neverAnswered;
    client.abort();
    await request;
    const line = await waitFor('request aborted before its answer was sent');

    expect(line).toMatchObject({ level: 40, req: { method: 'GET', url: '/never' } });
  });
});
