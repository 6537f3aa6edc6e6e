import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';
import { operatorClient } from './support/operator-client.js';

const TOKEN = randomBytes(24).toString('hex');
const LIMIT = 3;
const WINDOW_MS = 3_000;

describe('wrong operator tokens (responses, logs)', () => {
  let harness: Harness;
  const client = operatorClient(() => harness.handler.url);
  const withToken = (token: string) => client.call('/notifications', { headers: client.bearer(token) });

  beforeAll(async () => {
    harness = await startHarness('wrong-token-limit', {
      OPERATOR_TOKEN: TOKEN,
      OPERATOR_WRONG_TOKEN_LIMIT: String(LIMIT),
      OPERATOR_WRONG_TOKEN_WINDOW_MS: String(WINDOW_MS),
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When one address presents wrong tokens past the limit, then its tokens get 429, the right one too, until the window ends', async () => {
    // Right tokens never count, however many, even all at once.
    const burst = await Promise.all(Array.from({ length: LIMIT * 4 }, () => withToken(TOKEN)));
    expect(burst.map((answer) => answer.status)).toEqual(Array(LIMIT * 4).fill(200));
    for (let i = 0; i < LIMIT; i += 1) expect((await withToken(`wrong-${i}-${TOKEN}`)).status).toBe(401);

    const guess = await withToken(`wrong-again-${TOKEN}`);
    const right = await withToken(TOKEN);
    const signIn = await client.signIn(TOKEN);
    const withoutToken = await client.call('/notifications');
    // No proxy is trusted: a header cannot make the guesser someone else.
    const renamed = await client.call('/notifications', {
      headers: { ...client.bearer(TOKEN), 'x-forwarded-for': '203.0.113.9' },
    });

    expect(guess.status).toBe(429);
    expect(guess.json().error).toMatchObject({ code: 'too_many_wrong_tokens' });
    expect(Number(guess.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.status).toBe(429);
    expect(signIn.answer.status).toBe(429);
    expect(signIn.answer.text).toContain('Too many wrong operator tokens');
    expect(signIn.setCookie).toBe('');
    expect(withoutToken.status).toBe(401);
    expect(renamed.status).toBe(429);
    const warnings = harness.logs.lines.filter((line) => line.msg?.startsWith('too many wrong operator tokens'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(harness.logs.lines)).not.toContain(TOKEN);
    expect(harness.logs.lines.filter((line) => line.level >= 50)).toEqual([]);

    await harness.waitFor(async () => ((await withToken(TOKEN)).status === 200 ? true : undefined), WINDOW_MS * 3);
  });
});

describe('wrong operator tokens behind a trusted proxy', () => {
  let harness: Harness;
  const client = operatorClient(() => harness.handler.url);
  const from = (address: string, token: string) =>
    client.call('/notifications', { headers: { ...client.bearer(token), 'x-forwarded-for': address } });

  // Routes that do not refuse a token themselves: each scenario guesses from an address of its own.
  const forwardedFor = (address: string) => ({ 'x-forwarded-for': address });
  const rightTokenFrom = (address: string) => from(address, TOKEN);

  beforeAll(async () => {
    harness = await startHarness('wrong-token-proxy', {
      OPERATOR_TOKEN: TOKEN,
      OPERATOR_WRONG_TOKEN_LIMIT: String(LIMIT),
      OPERATOR_WRONG_TOKEN_WINDOW_MS: '60000',
      // The test's requests come from loopback, as a reverse proxy's on the same machine would.
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  it('When one client behind the proxy guesses past the limit, then only that client is refused, and the log names it', async () => {
    for (let i = 0; i < LIMIT; i += 1) expect((await from('203.0.113.7', `wrong-${i}-${TOKEN}`)).status).toBe(401);

    const guesser = await from('203.0.113.7', TOKEN);
    const other = await from('203.0.113.8', TOKEN);

    expect(guesser.status).toBe(429);
    expect(other.status).toBe(200);
    const warnings = harness.logs.lines.filter((line) => line.msg?.startsWith('too many wrong operator tokens'));
    expect(warnings.map((line) => line.client)).toEqual(['203.0.113.7']);
  });

  it('When wrong bearer tokens go to the sign-in page (which shows its form to them), then they count, and the address is refused', async () => {
    const address = '203.0.113.21';
    for (let i = 0; i < LIMIT; i += 1) {
      await client.call('/sign-in', { headers: { ...client.bearer(`wrong-${i}-${TOKEN}`), ...forwardedFor(address) } });
    }

    expect((await rightTokenFrom(address)).status).toBe(429);
    expect((await rightTokenFrom('203.0.113.22')).status).toBe(200);
  });

  it("When the proxy writes the client's port into X-Forwarded-For (203.0.113.31:40001), then each new connection still counts as the same client", async () => {
    // Azure Application Gateway, for one, forwards `address:port`; a guesser opens a connection per guess.
    for (let i = 0; i < LIMIT; i += 1)
      expect((await from(`203.0.113.31:${40_001 + i}`, `wrong-${i}-${TOKEN}`)).status).toBe(401);
    for (let i = 0; i < LIMIT; i += 1)
      expect((await from(`[2001:db8::31]:${40_001 + i}`, `wrong-${i}-${TOKEN}`)).status).toBe(401);

    expect((await from('203.0.113.31:40100', TOKEN)).status).toBe(429);
    expect((await rightTokenFrom('203.0.113.31')).status).toBe(429);
    expect((await from('[2001:db8::31]:40100', TOKEN)).status).toBe(429);
    expect((await rightTokenFrom('2001:db8::31')).status).toBe(429);
    expect((await from('203.0.113.32:40001', TOKEN)).status).toBe(200);
  });

  it('When the sign-in form is posted to /Sign-In/ (Express routes any case and a trailing slash), then wrong tokens count as on /sign-in', async () => {
    const address = '203.0.113.23';
    const post = (path: string, token: string) =>
      client.call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...forwardedFor(address) },
        body: new URLSearchParams({ token }).toString(),
      });
    const paths = ['/Sign-In', '/sign-in/', '/SIGN-IN/'];

    const answers = [];
    for (const [i, path] of paths.entries()) answers.push((await post(path, `wrong-${i}-${TOKEN}`)).status);

    expect(answers).toEqual([401, 401, 401]);
    expect((await post('/sign-in/', TOKEN)).status).toBe(429);
    expect((await rightTokenFrom(address)).status).toBe(429);
  });
});
