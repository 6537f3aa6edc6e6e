import { randomUUID } from 'node:crypto';
import { type Sandbox, startSandbox } from '@notify/mailjet-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxClient, sandboxClient, trackingIdOf } from '../../system/sandbox-client.js';

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

  /** A valid send to one provider's endpoint, with this tracking id; answers the status. */
  const sendTo = async (provider: 'mailjet' | 'sendgrid', trackingId: string) => {
    const mailjet = {
      path: '/v3.1/send',
      authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
      body: {
        Messages: [
          { From: { Email: 'a@example.com' }, To: [{ Email: 'b@example.com' }], TextPart: 'x', CustomID: trackingId },
        ],
      },
    };
    const sendgrid = {
      path: '/v3/mail/send',
      authorization: `Bearer ${sandbox.sendgridApiKey}`,
      body: {
        personalizations: [{ to: [{ email: 'b@example.com' }] }],
        from: { email: 'a@example.com' },
        subject: 's',
        content: [{ type: 'text/plain', value: 'x' }],
        custom_args: { trackingId },
      },
    };
    const { path, authorization, body } = provider === 'mailjet' ? mailjet : sendgrid;
    const response = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    return response.status;
  };

  it('When both providers took emails, then messages and counts go by tracking id across them, and faults and stats by provider', async () => {
    const [both, one] = [`t-${randomUUID()}`, `t-${randomUUID()}`];
    await client.setFaults({ provider: 'sendgrid', failNext: 1, status: 503 });
    const refused = await sendTo('sendgrid', one);
    await client.resetStats('sendgrid');
    await sendTo('mailjet', both);
    await sendTo('sendgrid', both);
    await sendTo('sendgrid', one);

    const counts = await client.countByCustomId();
    const sendGridOnly = await client.messages(both, 'sendgrid');

    expect(refused).toBe(503);
    expect([counts.get(both), counts.get(one)]).toEqual([2, 1]);
    expect(sendGridOnly.map((message) => [message.provider, trackingIdOf(message)])).toEqual([['sendgrid', both]]);
    expect((await client.stats('sendgrid')).calls).toMatchObject({ total: 2, byStatus: { '202': 2 } });
    expect((await client.faults('sendgrid')).failNext).toBe(0);
  });
});

describe('sandboxClient.countByCustomId over a bounded store', () => {
  let sandbox: Sandbox;
  afterAll(async () => {
    await sandbox.stop();
  });

  /** A valid Mailjet send of one message with this CustomID. */
  const send = async (customId: string) => {
    const response = await fetch(`${sandbox.url}/v3.1/send`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        Messages: [
          {
            From: { Email: 'a@example.com' },
            To: [{ Email: 'b@example.com' }],
            Subject: 's',
            TextPart: 'x',
            CustomID: customId,
          },
        ],
      }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(200);
  };

  it('When the store keeps only the newest message, then every email is still counted, and past the tally bound the count refuses to answer', async () => {
    sandbox = await startSandbox({ port: 0, maxStored: 1, maxTallied: 2 });
    const client = sandboxClient(sandbox.url, 5_000);
    const [first, second, third] = [`t-${randomUUID()}`, `t-${randomUUID()}`, `t-${randomUUID()}`];
    for (const id of [first, first, second]) await send(id);

    expect((await client.messages()).length).toBe(1);
    expect(await client.countByCustomId()).toEqual(
      new Map([
        [first, 2],
        [second, 1],
      ]),
    );

    await send(third);
    await expect(client.countByCustomId()).rejects.toThrow(/left 1 messages uncounted: raise its SANDBOX_MAX_TALLIED/);
  });
});
