import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage } from '../support/messages.js';

/** What a web page can send cross-site without a CORS preflight: a form type, or no type at all. */
const SIMPLE_REQUEST_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'];

describe('state-changing /sandbox routes accept only application/json', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterEach(() => {
    sandbox.faults.clear();
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  const call = async (method: string, path: string, body?: string, contentType?: string) => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: contentType === undefined ? {} : { 'Content-Type': contentType },
      // A Uint8Array body leaves Content-Type unset, as a page's fetch() with such a body does.
      body: body === undefined ? undefined : new TextEncoder().encode(body),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: JSON.parse(await response.text()) };
  };

  it.each(SIMPLE_REQUEST_TYPES)(
    'When POST /sandbox/faults comes as %s, then 415 in the sandbox error shape and no fault is set',
    async (contentType) => {
      const response = await call('POST', '/sandbox/faults', '{"failNext":10}', contentType);

      expect(response).toEqual({
        status: 415,
        body: { error: { code: 'unsupported_media_type', message: expect.stringMatching(/application\/json/) } },
      });
      expect(sandbox.faults.current().failNext).toBe(0);
    },
  );

  it('When POST /sandbox/faults has no content type, then 415 and no fault is set', async () => {
    const response = await call('POST', '/sandbox/faults', '{"failNext":10}');

    expect(response.status).toBe(415);
    expect(response.body.error.message).toMatch(/got none/);
    expect(sandbox.faults.current().failNext).toBe(0);
  });

  it('When POST /sandbox/faults comes as application/json with a charset, then the faults are set', async () => {
    const response = await call('POST', '/sandbox/faults', '{"failNext":1}', 'Application/JSON; charset=utf-8');

    expect(response.status).toBe(200);
    expect(sandbox.faults.current().failNext).toBe(1);
  });

  it('When a DELETE carries a non-JSON content type, then 415 and nothing is cleared', async () => {
    const message = buildMessage();
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });
    sandbox.faults.set({ latencyMs: 1 });

    const statuses = await Promise.all(
      ['/sandbox/messages', '/sandbox/faults', '/sandbox/stats'].map(
        async (path) => (await call('DELETE', path, 'x', 'text/plain')).status,
      ),
    );

    expect(statuses).toEqual([415, 415, 415]);
    expect(sandbox.store.list({ customId: message.CustomID })).toHaveLength(1);
    expect(sandbox.faults.current().latencyMs).toBe(1);
    expect(sandbox.stats.current().calls.total).toBeGreaterThan(0);
  });

  it('When a DELETE has no body and no content type (curl -X DELETE), then it is done', async () => {
    sandbox.faults.set({ latencyMs: 1 });

    const response = await call('DELETE', '/sandbox/faults');

    expect(response.status).toBe(200);
    expect(sandbox.faults.current().latencyMs).toBe(0);
  });
});
