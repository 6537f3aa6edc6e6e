import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { CLIENT_MODES, sendExpectingError, sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage, uniqueEmail } from '../support/messages.js';

const sendOne = (sandbox: Sandbox, message = buildMessage()) =>
  sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

/** The HTTP status of each of `count` sequential sends (0: no HTTP answer). */
async function statusesOf(sandbox: Sandbox, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let call = 0; call < count; call += 1) {
    statuses.push(
      await sendOne(sandbox).then(
        ({ status }) => status,
        (error) => error.statusCode ?? 0,
      ),
    );
  }
  return statuses;
}

describe('POST /v3.1/send: injected faults', () => {
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

  it('When failNext is 2 with status 429, then two HTML 429s, then success', async () => {
    sandbox.faults.set({ failNext: 2, status: 429 });

    const first = await sendExpectingError(sandbox, 'protocol', { Messages: [buildMessage()] });
    const second = await sendExpectingError(sandbox, 'proxy', { Messages: [buildMessage()] });
    const third = await sendOne(sandbox);

    expect([first.statusCode, second.statusCode, third.status]).toEqual([429, 429, 200]);
    expect(first.response?.headers['content-type']).toMatch(/^text\/html/);
    // node-mailjet parses every body as JSON: a non-JSON body becomes {} without error.
    expect(first.response?.data).toEqual({});
    expect(first.code).toBe('ERR_BAD_REQUEST');
  });

  it('When failNext is set without a status, then Mailjet JSON 500 whose fields node-mailjet copies', async () => {
    const message = buildMessage();
    sandbox.faults.set({ failNext: 1 });

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [message] });

    expect(error.statusCode).toBe(500);
    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(Object.keys(error.response?.data)).toEqual(['ErrorIdentifier', 'StatusCode', 'ErrorMessage']);
    expect(error.ErrorIdentifier).toBe(error.response?.data.ErrorIdentifier);
    expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
  });

  it.each([502, 503, 504] as const)('When failNext has status %i, then a non-JSON proxy page', async (status) => {
    sandbox.faults.set({ failNext: 1, status });

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [buildMessage()] });

    expect(error.statusCode).toBe(status);
    expect(error.response?.headers['content-type']).toMatch(/^text\/html/);
    expect(error.response?.data).toEqual({});
  });

  it('When failRate is set with a seed, then the same calls fail on a second run', async () => {
    sandbox.faults.set({ failRate: 0.5, seed: 20_240_601 });
    const firstRun = await statusesOf(sandbox, 24);
    sandbox.faults.set({ failRate: 0.5, seed: 20_240_601 });
    const secondRun = await statusesOf(sandbox, 24);

    expect(secondRun).toEqual(firstRun);
    expect(firstRun).toContain(500);
    expect(firstRun).toContain(200);
  });

  it('When latencyMs is set, then the answer comes no sooner', async () => {
    sandbox.faults.set({ latencyMs: 250 });
    const started = performance.now();

    const { status } = await sendOne(sandbox);

    expect(status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(245);
  });

  it.each(CLIENT_MODES)(
    'When hangNext is 1 (%s mode), then the client times out (ECONNABORTED), then success',
    async (mode) => {
      const message = buildMessage();
      sandbox.faults.set({ hangNext: 1 });

      const error = await sendExpectingError(sandbox, mode, { Messages: [message] }, { timeoutMs: 300 });
      const next = await sendOne(sandbox);

      expect(error.code).toBe('ECONNABORTED');
      expect(error.statusCode).toBeNull();
      expect(error.response).toBeNull();
      expect(next.status).toBe(200);
      expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
    },
  );

  it.each(CLIENT_MODES)(
    'When resetNext is 1 (%s mode), then the client sees ECONNRESET, then success',
    async (mode) => {
      sandbox.faults.set({ resetNext: 1 });

      const error = await sendExpectingError(sandbox, mode, { Messages: [buildMessage()] });
      const next = await sendOne(sandbox);

      expect(error.code).toBe('ECONNRESET');
      expect(error.statusCode).toBeNull();
      expect(next.status).toBe(200);
    },
  );

  it('When failRecipients names a domain, then its recipients get a per-message error and the rest is sent', async () => {
    sandbox.faults.set({ failRecipients: 'fail.example' });
    const good = buildMessage();
    const doomed = buildMessage({ To: [{ Email: uniqueEmail() }, { Email: uniqueEmail('fail.example') }] });

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [good, doomed] });

    expect(error.statusCode).toBe(400);
    const [goodEntry, doomedEntry] = error.response!.data.Messages;
    expect(goodEntry.Status).toBe('success');
    expect(doomedEntry.Errors).toMatchObject([
      { ErrorCode: 'mj-0013', StatusCode: 400, ErrorRelatedTo: ['To[1].Email'] },
    ]);
    expect(sandbox.store.list({ customId: good.CustomID })).toHaveLength(1);
    expect(sandbox.store.list({ customId: doomed.CustomID })).toEqual([]);
  });

  it('When refuseSenders names the sender’s domain, then 403 with a send-0008 entry per message and nothing kept', async () => {
    sandbox.faults.set({ refuseSenders: 'notify.example' });
    const messages = [buildMessage(), buildMessage()];

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: messages });

    expect(error.statusCode).toBe(403);
    expect(error.response!.data.Messages).toMatchObject(
      messages.map(() => ({
        Status: 'error',
        Errors: [{ ErrorCode: 'send-0008', StatusCode: 403, ErrorRelatedTo: ['From'] }],
      })),
    );
    for (const message of messages) expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
  });

  it('When a call mixes a refused sender with a refused recipient, then 400, and a message from another sender is sent', async () => {
    sandbox.faults.set({ refuseSenders: 'notify.example', failRecipients: 'fail.example' });
    const refusedSender = buildMessage();
    const refusedRecipient = buildMessage({
      From: { Email: 'tickets@verified.example' },
      To: [{ Email: uniqueEmail('fail.example') }],
    });
    const good = buildMessage({ From: { Email: 'tickets@verified.example' } });

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [refusedSender, refusedRecipient, good] });

    expect(error.statusCode).toBe(400);
    const codes = error.response!.data.Messages.map((entry: any) => entry.Errors?.[0]?.ErrorCode ?? entry.Status);
    expect(codes).toEqual(['send-0008', 'mj-0013', 'success']);
    expect(sandbox.store.list({ customId: good.CustomID })).toHaveLength(1);
  });

  it('When failNext is 3 and 10 calls arrive together, then exactly 3 fail', async () => {
    sandbox.faults.set({ failNext: 3, status: 503 });

    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => sendOne(sandbox)));

    const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(failed).toHaveLength(3);
    expect(sandbox.faults.current().failNext).toBe(0);
  });

  it('When faults are combined, then each counts its own next calls and the strongest applies', async () => {
    sandbox.faults.set({ resetNext: 1, failNext: 2, status: 502 });

    const statuses = await statusesOf(sandbox, 3);

    // Call 1 is both reset and failed: reset wins. Call 2 is the second of failNext. Call 3 is clean.
    expect(statuses).toEqual([0, 502, 200]);
  });

  it('When faults are given at start, then they strike from the first call', async () => {
    const faulty = await startSandbox({ port: 0, faults: { failNext: 1, status: 429 } });
    try {
      expect(await statusesOf(faulty, 2)).toEqual([429, 200]);
    } finally {
      await faulty.stop();
    }
  });
});
