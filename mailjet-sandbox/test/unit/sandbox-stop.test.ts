import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/index.js';
import { sendExpectingError } from '../support/mailjet-clients.js';
import { buildMessage } from '../support/messages.js';
import { callSandbox } from '../support/sandbox-http.js';

describe('Sandbox.stop', () => {
  it('When a call hangs, then stop still resolves, and the client sees its connection end', async () => {
    const sandbox = await startSandbox({ port: 0, faults: { hangNext: 1 } });
    const pending = sendExpectingError(sandbox, 'protocol', { Messages: [buildMessage()] }, { timeoutMs: 10_000 });
    await waitUntil(() => sandbox.faults.current().hangNext === 0);
    const started = performance.now();

    await sandbox.stop();
    const error = await pending;

    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.statusCode).toBeNull();
    expect(error.code).toBe('ECONNRESET');
  });

  it('When stopped, then the port refuses connections and stop can be called again', async () => {
    const sandbox = await startSandbox({ port: 0 });

    await sandbox.stop();

    await expect(callSandbox(sandbox, 'GET', '/sandbox/health')).rejects.toThrow();
    await expect(sandbox.stop()).resolves.toBeUndefined();
  });
});

/** Polls a synchronous condition with a deadline; never a fixed sleep. */
async function waitUntil(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
