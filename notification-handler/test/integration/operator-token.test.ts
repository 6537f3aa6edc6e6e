import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { spawnService } from '@notify/test-support/child-service.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';
import { csrfOf, operatorClient } from './support/operator-client.js';

const TOKEN = randomBytes(24).toString('hex');

describe('operator token (responses, cookies)', () => {
  let harness: Harness;
  let sentId: string;
  const client = operatorClient(() => harness.handler.url);

  beforeAll(async () => {
    harness = await startHarness('operator-token', { OPERATOR_TOKEN: TOKEN });
    const message = buildMessage();
    harness.publish(message);
    await harness.settled(message.trackingId);
    sentId = message.trackingId;
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const protectedGets = () => [
    '/notifications',
    `/notifications/${sentId}`,
    '/',
    '/operator/notifications',
    `/operator/notifications/${sentId}`,
    `/operator/notifications/${sentId}/replay`,
    `/operator/replay-failed?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`,
    '/operator/dead-letters',
  ];

  it('When a protected route is asked with no token or a wrong one, then 401 in the error shape', async () => {
    for (const path of protectedGets()) {
      for (const headers of [{}, client.bearer(`${TOKEN}x`), client.bearer('')]) {
        const answer = await client.call(path, { headers });
        expect({ path, status: answer.status }).toEqual({ path, status: 401 });
        expect({ path, type: answer.headers.get('content-type') }).toEqual({
          path,
          type: expect.stringMatching(/json/),
        });
        expect(answer.json()).toEqual({ error: expect.objectContaining({ code: 'unauthorized' }) });
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
    }
  });

  it('When a protected route is asked with the bearer token or a signed-in cookie, then it answers past the guard', async () => {
    const { cookie } = await client.signIn(TOKEN);
    for (const path of protectedGets()) {
      // Past the guard, the replay confirmation of a sent notification refuses it: 409, not 401.
      const expected = path.endsWith(`${sentId}/replay`) ? 409 : 200;
      const withBearer = await client.call(path, { headers: client.bearer(TOKEN) });
      const withCookie = await client.call(path, { headers: { cookie } });
      expect({ path, bearer: withBearer.status, cookie: withCookie.status }).toEqual({
        path,
        bearer: expected,
        cookie: expected,
      });
    }
  });

  it('When the API changes state with no token, then 401; with the token, then it acts', async () => {
    const noToken = await client.call(`/notifications/${sentId}/retry`, { method: 'POST' });
    const bulkNoToken = await client.call('/notifications/retry', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: new Date(Date.now() - 60_000).toISOString() }),
    });
    const withToken = await client.call(`/notifications/${sentId}/retry`, {
      method: 'POST',
      headers: client.bearer(TOKEN),
    });

    expect([noToken.status, bulkNoToken.status]).toEqual([401, 401]);
    expect(withToken.status).toBe(409);
  });

  it('When the probes are asked with no token, then they answer as before', async () => {
    expect((await client.call('/healthz')).status).toBe(200);
    expect((await client.call('/readyz')).status).toBe(200);
    expect((await client.call('/metrics')).status).not.toBe(401);
  });

  it('When a browser without a session opens the page, then it gets the sign-in form with 401', async () => {
    const answer = await client.call('/operator/notifications', { headers: { accept: 'text/html,*/*;q=0.8' } });

    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.text).toContain('<form method="post" action="/sign-in">');
  });

  it('When the right token is posted to sign-in, then an HttpOnly SameSite=Strict cookie without the token is set', async () => {
    const { setCookie, answer } = await client.signIn(TOKEN);

    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/');
    expect(setCookie).toMatch(/^notify_operator=[^;]+; /);
    expect(setCookie.split('; ').slice(1)).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', expect.stringMatching(/^Max-Age=\d+$/)]),
    );
    expect(setCookie).not.toContain(TOKEN);
  });

  it('When a browser on HTTPS signs in through a proxy TRUST_PROXY does not name, then its cookie is Secure all the same: its Origin says https', async () => {
    const browserOnHttps = { origin: 'https://ops.example.com', 'sec-fetch-site': 'same-origin' };
    const answer = await client.call('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...browserOnHttps },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    const setCookie = answer.headers.getSetCookie()[0] ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await client.call('/', { headers: { cookie } });
    const signOut = await client.postForm('/sign-out', cookie, { csrf: csrfOf(page.text) }, browserOnHttps);

    expect(answer.status).toBe(303);
    expect(setCookie.split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Secure']));
    expect(signOut.status).toBe(303);
    expect((signOut.headers.getSetCookie()[0] ?? '').split('; ')).toContain('Secure');
  });

  it('When a wrong token is posted to sign-in, then 401 and no cookie', async () => {
    const { setCookie, answer } = await client.signIn(`${TOKEN.slice(1)}0`);

    expect(answer.status).toBe(401);
    expect(setCookie).toBe('');
    expect(answer.text).toContain('That is not the operator token.');
  });

  it('When the browser signs out, then the cookie is cleared and no longer opens the page', async () => {
    const { cookie } = await client.signIn(TOKEN);
    const page = await client.call('/', { headers: { cookie } });

    const signOut = await client.postForm('/sign-out', cookie, { csrf: csrfOf(page.text) });
    const after = await client.call('/', { headers: { cookie } });

    expect(signOut.status).toBe(303);
    expect(signOut.headers.getSetCookie()[0]).toMatch(/^notify_operator=; .*Max-Age=0/);
    expect(after.status).toBe(401);
  });

  it('When a state-changing API call comes with the cookie only and a form content type, then 415', async () => {
    const { cookie } = await client.signIn(TOKEN);
    const body = `from=${new Date(Date.now() - 60_000).toISOString()}`;
    const refused = [];
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await client.call('/notifications/retry', {
        method: 'POST',
        headers: { cookie, 'content-type': type },
        body,
      });
      refused.push(answer.status);
    }
    const noBody = await client.call(`/notifications/${sentId}/retry`, { method: 'POST', headers: { cookie } });
    const asJson = await client.call(`/notifications/${sentId}/retry`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
    });
    const withBearer = await client.call(`/notifications/${sentId}/retry`, {
      method: 'POST',
      headers: { ...client.bearer(TOKEN), 'content-type': 'text/plain' },
      body: 'x',
    });

    expect(refused).toEqual([415, 415, 415]);
    expect(noBody.status).toBe(415);
    expect(noBody.json().error.code).toBe('unsupported_media_type');
    // Past the guard: the notification is sent, so not replayable.
    expect([asJson.status, withBearer.status]).toEqual([409, 409]);
  });

  it('When a page form comes from another origin or without its CSRF token, then 403', async () => {
    const { cookie } = await client.signIn(TOKEN);
    // Every page carries the session's token (its sign-out form).
    const page = await client.call(`/operator/notifications/${sentId}`, { headers: { cookie } });
    const csrf = csrfOf(page.text);
    const path = `/operator/notifications/${sentId}/replay`;

    const crossSite = await client.postForm(path, cookie, { csrf }, { 'sec-fetch-site': 'same-site' });
    const foreignOrigin = await client.call(path, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:4010' },
      body: `csrf=${encodeURIComponent(csrf)}`,
    });
    const noCsrf = await client.postForm(path, cookie, {});
    const otherSessionCsrf = await client.postForm(path, (await client.signIn(TOKEN)).cookie, { csrf });
    const good = await client.postForm(path, cookie, { csrf });

    expect([crossSite.status, foreignOrigin.status, noCsrf.status, otherSessionCsrf.status]).toEqual([
      403, 403, 403, 403,
    ]);
    // Past the guards: a sent notification does not replay.
    expect(good.status).toBe(409);
  });

  it('When a signed-in browser reads the status API, then its answers (personal data) are no-store, as the page is', async () => {
    const { cookie } = await client.signIn(TOKEN);

    const one = await client.call(`/notifications/${sentId}`, { headers: { cookie } });
    const list = await client.call('/notifications', { headers: { cookie } });
    const page = await client.call(`/operator/notifications/${sentId}`, { headers: { cookie } });

    expect(one.json().recipient).toEqual(expect.objectContaining({ email: expect.any(String) }));
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect([one.headers.get('cache-control'), list.headers.get('cache-control')]).toEqual(['no-store', 'no-store']);
  });

  it('When an unknown notification is asked for with the token, then 404 as before (the guard hides nothing else)', async () => {
    const answer = await client.call(`/notifications/${randomUUID()}`, { headers: client.bearer(TOKEN) });
    expect(answer.status).toBe(404);
  });
});

describe('operator token behind a trusted TLS-terminating proxy (cookies)', () => {
  let harness: Harness;
  const client = operatorClient(() => harness.handler.url);
  const overHttps = { 'x-forwarded-proto': 'https' };

  beforeAll(async () => {
    // The test's requests come from loopback, as a reverse proxy's on the same machine would.
    harness = await startHarness('operator-tls-proxy', { OPERATOR_TOKEN: TOKEN, TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const signIn = (headers: Record<string, string> = {}) =>
    client.call('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });

  it('When a browser signs in over HTTPS through the trusted proxy, then its cookie is Secure, and so is the one sign-out clears', async () => {
    const answer = await signIn(overHttps);
    const setCookie = answer.headers.getSetCookie()[0] ?? '';
    const cookie = setCookie.split(';')[0] ?? '';
    const page = await client.call('/', { headers: { cookie, ...overHttps } });
    const signOut = await client.postForm('/sign-out', cookie, { csrf: csrfOf(page.text) }, overHttps);

    expect(answer.status).toBe(303);
    expect(setCookie.split('; ')).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Secure']));
    expect(signOut.status).toBe(303);
    expect((signOut.headers.getSetCookie()[0] ?? '').split('; ')).toContain('Secure');
  });

  it('When a browser signs in over plain HTTP, then its cookie is not Secure (a browser on http:// would drop it)', async () => {
    const answer = await signIn();

    expect(answer.status).toBe(303);
    expect((answer.headers.getSetCookie()[0] ?? '').split('; ')).not.toContain('Secure');
  });
});

describe('no operator token, on loopback (responses, logs)', () => {
  let harness: Harness;
  const client = operatorClient(() => harness.handler.url);

  beforeAll(async () => {
    harness = await startHarness('operator-open', { OPERATOR_TOKEN: '' });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When no token is set, then the API and the page answer without one, after a start-up warning', async () => {
    const [warning] = harness.logs.find(
      'NO OPERATOR_TOKEN SET: the status API and the operator page are open to anyone who reaches this loopback address',
    );

    expect(warning).toMatchObject({ level: 40, host: '127.0.0.1' });
    expect((await client.call('/notifications')).status).toBe(200);
    expect((await client.call('/')).status).toBe(200);
  });

  it('When no token is set and a request names another host (DNS rebinding), then 401; localhost still answers', async () => {
    const asHost = (host: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const { port } = new URL(harness.handler.url);
        const request = httpRequest(
          { host: '127.0.0.1', port, path: '/notifications', headers: { host, ...headers } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        request.setTimeout(5_000, () => request.destroy(new Error('no answer in 5 s')));
        request.on('error', reject);
        request.end();
      });

    expect(await asHost('rebound.example:3001')).toBe(401);
    expect(await asHost('localhost:3001')).toBe(200);
    expect(await asHost('[::1]:3001')).toBe(200);
    // A reverse proxy on this machine passing its clients on with its upstream's Host.
    expect(await asHost('127.0.0.1:3001', { 'x-forwarded-for': '203.0.113.7' })).toBe(401);
    expect(await asHost('127.0.0.1:3001', { forwarded: 'for=203.0.113.7' })).toBe(401);
    expect(await asHost('127.0.0.1:3001', { via: '1.1 nginx' })).toBe(401);
  });

  it('When no token is set, then a state-changing call in a form content type is still refused', async () => {
    const answer = await client.call(`/notifications/${randomUUID()}/retry`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    const asJson = await client.call(`/notifications/${randomUUID()}/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });

    expect(answer.status).toBe(415);
    expect(asJson.status).toBe(404);
  });
});

describe('operator token (start-up)', () => {
  const entry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

  it('When the handler is to listen on 0.0.0.0 without OPERATOR_TOKEN, then it refuses to start, naming both', async () => {
    const handler = spawnService(entry, { HOST: '0.0.0.0', PORT: '0', OPERATOR_TOKEN: '' });

    const exitCode = await handler.exited;

    expect(exitCode).toBe(1);
    const output = handler.lines.map((line) => String(line.msg)).join('\n');
    expect(output).toMatch(/OPERATOR_TOKEN: must be set when HOST \(0\.0\.0\.0\) is not a loopback address/);
    expect(handler.lines.some((line) => line.msg === 'notification handler ready')).toBe(false);
  });
});
