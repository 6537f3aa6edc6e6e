import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage, uniqueEmail, uniqueId } from '../support/messages.js';
import { callSandbox } from '../support/sandbox-http.js';

describe('/sandbox endpoints', () => {
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

  it('When messages were accepted, then GET /sandbox/messages lists them with string ids', async () => {
    const message = buildMessage();
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

    const response = await callSandbox(
      sandbox,
      'GET',
      `/sandbox/messages?CustomID=${encodeURIComponent(message.CustomID)}`,
    );

    expect(response.status).toBe(200);
    const { messages } = response.json();
    expect(messages).toEqual([
      {
        ...message,
        provider: 'mailjet',
        MessageID: expect.stringMatching(/^\d{17,19}$/),
        MessageUUID: expect.any(String),
        receivedAt: expect.any(String),
        Recipients: [expect.objectContaining({ Type: 'To', Email: message.To[0].Email })],
      },
    ]);
    expect(Number.isNaN(Date.parse(messages[0].receivedAt))).toBe(false);
  });

  it('When filtered by recipient, then only messages sent to that address, whatever its case', async () => {
    const recipient = uniqueEmail();
    const mine = buildMessage({ To: [{ Email: recipient }] });
    await sendThroughMailjet(sandbox, 'protocol', { Messages: [mine, buildMessage()] });

    const response = await callSandbox(
      sandbox,
      'GET',
      `/sandbox/messages?to=${encodeURIComponent(recipient.toUpperCase())}`,
    );

    expect(response.json().messages.map((m: any) => m.CustomID)).toEqual([mine.CustomID]);
  });

  it('When DELETE /sandbox/messages is called, then the store and its tally are empty', async () => {
    const other = await startSandbox({ port: 0 });
    try {
      await sendThroughMailjet(other, 'protocol', { Messages: [buildMessage()] });

      const deleted = await callSandbox(other, 'DELETE', '/sandbox/messages');
      const listed = await callSandbox(other, 'GET', '/sandbox/messages');
      const tally = await callSandbox(other, 'GET', '/sandbox/tally');

      expect(deleted.status).toBe(204);
      expect(listed.json()).toEqual({ messages: [] });
      expect(tally.json()).toEqual({ counts: {}, untracked: 0, complete: true, notCounted: 0 });
    } finally {
      await other.stop();
    }
  });

  it('When more messages came than the store keeps, then GET /sandbox/tally still counts every one by its CustomID', async () => {
    const small = await startSandbox({ port: 0, maxStored: 1 });
    try {
      const [twice, once] = [buildMessage(), buildMessage()];
      const untracked = buildMessage();
      delete untracked.CustomID;
      await sendThroughMailjet(small, 'protocol', { Messages: [twice, once] });
      await sendThroughMailjet(small, 'protocol', { Messages: [twice, untracked] });

      const tally = await callSandbox(small, 'GET', '/sandbox/tally');
      const listed = await callSandbox(small, 'GET', '/sandbox/messages');

      expect(tally.status).toBe(200);
      expect(tally.json()).toEqual({
        counts: { [twice.CustomID]: 2, [once.CustomID]: 1 },
        untracked: 1,
        complete: true,
        notCounted: 0,
      });
      expect(listed.json().messages).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });

  it('When POST /sandbox/faults sets fields, then GET shows them merged with the rest', async () => {
    await callSandbox(sandbox, 'POST', '/sandbox/faults', { failNext: 2, status: 503 });
    const posted = await callSandbox(sandbox, 'POST', '/sandbox/faults', {
      latencyMs: 5,
      failRecipients: '@Fail.Example',
    });

    const shown = await callSandbox(sandbox, 'GET', '/sandbox/faults');

    expect(posted.status).toBe(200);
    expect(shown.json()).toEqual({
      failNext: 2,
      status: 503,
      failRate: 0,
      seed: expect.any(Number),
      latencyMs: 5,
      hangNext: 0,
      resetNext: 0,
      failRecipients: 'fail.example',
      refuseSenders: null,
      maxCallsPerSecond: null,
      retryAfterSeconds: null,
    });
  });

  it('When POST /sandbox/faults has bad fields, then 400 naming each one, and nothing changes', async () => {
    const response = await callSandbox(sandbox, 'POST', '/sandbox/faults', { failRate: 1.5, status: 404, failNxt: 1 });

    expect(response.status).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: any) => d.field).sort()).toEqual(['body.failNxt', 'body.failRate', 'body.status']);
    expect(sandbox.faults.current()).toMatchObject({ failRate: 0, status: 500 });
  });

  it('When POST /sandbox/faults is not JSON, then 400 malformed_json', async () => {
    const response = await callSandbox(sandbox, 'POST', '/sandbox/faults', '{failNext');

    expect(response.status).toBe(400);
    expect(response.json().error.code).toBe('malformed_json');
  });

  it('When DELETE /sandbox/faults is called, then every fault is off', async () => {
    sandbox.faults.set({ failNext: 4, hangNext: 1, latencyMs: 10, failRate: 0.2 });

    const response = await callSandbox(sandbox, 'DELETE', '/sandbox/faults');

    expect(response.json()).toMatchObject({
      failNext: 0,
      hangNext: 0,
      latencyMs: 0,
      failRate: 0,
      failRecipients: null,
    });
  });

  it('When faults are set, then the /sandbox endpoints are never affected and never count', async () => {
    sandbox.faults.set({ failNext: 1, hangNext: 1, resetNext: 1, latencyMs: 2_000 });
    const started = performance.now();

    const statuses = await Promise.all(
      ['/sandbox/messages', '/sandbox/faults', '/sandbox/health', '/'].map(
        async (path) => (await callSandbox(sandbox, 'GET', path)).status,
      ),
    );

    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(sandbox.faults.current()).toMatchObject({ failNext: 1, hangNext: 1, resetNext: 1 });
  });

  it('When a path or method is unknown, then 404 or 405 in the sandbox error shape', async () => {
    const missing = await callSandbox(sandbox, 'GET', `/${uniqueId('nowhere')}`);
    const wrongMethod = await callSandbox(sandbox, 'GET', '/v3.1/send');

    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});
