import { type Sandbox, startSandbox } from '@notify/mailjet-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxClient, sandboxClient } from '../../system/sandbox-client.js';

describe('sandboxClient', () => {
  let sandbox: Sandbox;
  let client: SandboxClient;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    client = sandboxClient(sandbox.url, 5_000);
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  /** A call to the send endpoint with no credentials: answered 401, counted all the same. */
  const callSend = async () => {
    const response = await fetch(`${sandbox.url}/v3.1/send`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    return response.status;
  };

  it('When the rate limit is set through the client, then the sandbox applies it and shows it', async () => {
    const shown = await client.setFaults({ maxCallsPerSecond: 0, retryAfterSeconds: 3 });

    expect(shown).toMatchObject({ maxCallsPerSecond: 0, retryAfterSeconds: 3 });
    expect(await callSend()).toBe(429);
    await client.clearFaults();
    expect(await client.faults()).toMatchObject({ maxCallsPerSecond: null, retryAfterSeconds: null });
  });

  it('When calls were made, then stats() counts them and resetStats() starts again from zero', async () => {
    await client.resetStats();
    await callSend();
    await callSend();

    const counted = await client.stats();
    const reset = await client.resetStats();

    expect(counted.calls).toEqual({ total: 2, byStatus: { '401': 2 }, reset: 0, hang: 0 });
    expect(reset.calls.total).toBe(0);
    expect((await client.stats()).since).toBe(reset.since);
  });
});
