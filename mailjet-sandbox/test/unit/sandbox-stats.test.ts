import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage } from '../support/messages.js';
import { callSandbox } from '../support/sandbox-http.js';

/** One send through node-mailjet, whatever its outcome. */
const sendOne = (sandbox: Sandbox, options: { apiSecret?: string; timeoutMs?: number } = {}) =>
  sendThroughMailjet(sandbox, 'protocol', { Messages: [buildMessage()] }, options).catch(() => undefined);

describe('GET and DELETE /sandbox/stats', () => {
  // A sandbox per test: the counters are the sandbox's, and each test counts from zero.
  let sandbox: Sandbox;
  beforeEach(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  it('When nothing was sent, then every counter is zero since the start', async () => {
    const { status, json } = await callSandbox(sandbox, 'GET', '/sandbox/stats');

    expect(status).toBe(200);
    expect(json()).toEqual({ calls: { total: 0, byStatus: {}, reset: 0, hang: 0 }, since: expect.any(String) });
    expect(Date.parse(json().since)).toBeLessThanOrEqual(Date.now());
  });

  it('When calls succeed, fail, reset, hang and are throttled, then each is counted by its outcome', async () => {
    await sendOne(sandbox);
    await sendOne(sandbox, { apiSecret: 'wrong' });
    sandbox.faults.set({ failNext: 2, status: 503 });
    await sendOne(sandbox);
    await sendOne(sandbox);
    sandbox.faults.set({ resetNext: 1 });
    await sendOne(sandbox);
    sandbox.faults.set({ hangNext: 1 });
    await sendOne(sandbox, { timeoutMs: 200 });
    sandbox.faults.set({ maxCallsPerSecond: 0 });
    await sendOne(sandbox);

    const { json } = await callSandbox(sandbox, 'GET', '/sandbox/stats');

    expect(json().calls).toEqual({ total: 7, byStatus: { '200': 1, '401': 1, '429': 1, '503': 2 }, reset: 1, hang: 1 });
    expect(sandbox.stats.current().calls.total).toBe(7);
  });

  it('When calls arrive together, then each is counted once', async () => {
    sandbox.faults.set({ failNext: 4, status: 502 });

    await Promise.all(Array.from({ length: 10 }, () => sendOne(sandbox)));

    expect(sandbox.stats.current().calls).toMatchObject({ total: 10, byStatus: { '200': 6, '502': 4 } });
  });

  it('When DELETE /sandbox/stats is called, then the counters start again from zero with a new since', async () => {
    await sendOne(sandbox);
    const { since: startedAt } = sandbox.stats.current();

    const deleted = await callSandbox(sandbox, 'DELETE', '/sandbox/stats');
    await sendOne(sandbox);
    const shown = await callSandbox(sandbox, 'GET', '/sandbox/stats');

    expect(deleted.status).toBe(200);
    expect(deleted.json().calls).toEqual({ total: 0, byStatus: {}, reset: 0, hang: 0 });
    expect(Date.parse(deleted.json().since)).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(shown.json()).toEqual({
      calls: { total: 1, byStatus: { '200': 1 }, reset: 0, hang: 0 },
      since: deleted.json().since,
    });
  });

  it('When the sandbox endpoints are called, then they are not counted', async () => {
    for (const path of ['/sandbox/messages', '/sandbox/faults', '/sandbox/stats', '/sandbox/health', '/']) {
      await callSandbox(sandbox, 'GET', path);
    }
    await callSandbox(sandbox, 'POST', '/sandbox/faults', { latencyMs: 0 });

    expect(sandbox.stats.current().calls.total).toBe(0);
  });
});
