import { setTimeout as pause } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { CLIENT_MODES, sendExpectingError, sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage } from '../support/messages.js';

const sendOne = (sandbox: Sandbox) => sendThroughMailjet(sandbox, 'protocol', { Messages: [buildMessage()] });

/** The HTTP status of one send through node-mailjet (0: no HTTP answer). */
const statusOfSend = (sandbox: Sandbox) =>
  sendOne(sandbox).then(
    ({ status }) => status,
    (error) => error.statusCode ?? 0,
  );

describe('POST /v3.1/send: maxCallsPerSecond (rate limit)', () => {
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

  it('When a third call comes within the second of a limit of 2, then it is a plain-text 429 with no Retry-After', async () => {
    sandbox.faults.set({ maxCallsPerSecond: 2 });

    const accepted = [await statusOfSend(sandbox), await statusOfSend(sandbox)];
    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [buildMessage()] });

    expect(accepted).toEqual([200, 200]);
    expect(error.statusCode).toBe(429);
    expect(error.code).toBe('ERR_BAD_REQUEST');
    expect(error.response?.headers['content-type']).toMatch(/^text\/plain/);
    // node-mailjet parses every body as JSON: the plain-text body becomes {} without error.
    expect(error.response?.data).toEqual({});
    expect(error.response?.headers['retry-after']).toBeUndefined();
  });

  it.each(CLIENT_MODES)(
    'When retryAfterSeconds is set (%s mode), then node-mailjet shows the Retry-After value on err.response.headers',
    async (mode) => {
      sandbox.faults.set({ maxCallsPerSecond: 0, retryAfterSeconds: 7 });

      const error = await sendExpectingError(sandbox, mode, { Messages: [buildMessage()] });

      expect(error.statusCode).toBe(429);
      expect(error.response?.headers['retry-after']).toBe('7');
    },
  );

  it('When retryAfterSeconds is set, then a 429 from failNext carries Retry-After too', async () => {
    sandbox.faults.set({ failNext: 1, status: 429, retryAfterSeconds: 2 });

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [buildMessage()] });

    expect(error.statusCode).toBe(429);
    expect(error.response?.headers['retry-after']).toBe('2');
  });

  it('When the second of the window has passed, then calls are accepted again', async () => {
    sandbox.faults.set({ maxCallsPerSecond: 1 });
    const started = performance.now();
    const first = [await statusOfSend(sandbox), await statusOfSend(sandbox)];

    // Polls with a deadline; the refused polls count in the window but do not extend it.
    let acceptedAt: number | undefined;
    while (acceptedAt === undefined && performance.now() - started < 5_000) {
      if ((await statusOfSend(sandbox)) === 200) acceptedAt = performance.now();
      else await pause(50);
    }

    expect(first).toEqual([200, 429]);
    expect(acceptedAt).toBeDefined();
    expect((acceptedAt as number) - started).toBeGreaterThanOrEqual(990);
    expect((acceptedAt as number) - started).toBeLessThan(2_500);
  });

  it('When the limit is given at start, then it applies from the first call', async () => {
    const limited = await startSandbox({ port: 0, faults: { maxCallsPerSecond: 1, retryAfterSeconds: 1 } });
    try {
      expect([await statusOfSend(limited), await statusOfSend(limited)]).toEqual([200, 429]);
    } finally {
      await limited.stop();
    }
  });

  it('When the faults are cleared, then the limit is lifted', async () => {
    sandbox.faults.set({ maxCallsPerSecond: 0 });
    expect(await statusOfSend(sandbox)).toBe(429);

    sandbox.faults.clear();

    expect(await statusOfSend(sandbox)).toBe(200);
  });
});
