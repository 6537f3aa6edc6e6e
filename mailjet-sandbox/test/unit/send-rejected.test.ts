import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { CLIENT_MODES, sendExpectingError } from '../support/mailjet-clients.js';
import { buildMessage, uniqueEmail } from '../support/messages.js';
import { basicAuth, callSandbox } from '../support/sandbox-http.js';

const recipients = (count: number) => Array.from({ length: count }, () => ({ Email: uniqueEmail() }));

/** One message each, with the error Mailjet reports for it. */
const INVALID_MESSAGES: [string, Record<string, unknown>, string, string[]][] = [
  ['an invalid recipient email', { To: [{ Email: 'x@' }] }, 'mj-0013', ['To[0].Email']],
  ['an invalid sender email', { From: { Email: 'sender@nowhere' } }, 'mj-0013', ['From.Email']],
  ['an invalid Cc email', { Cc: [{ Email: 'not an email' }] }, 'mj-0013', ['Cc[0].Email']],
  [
    'no TextPart, HTMLPart or TemplateID',
    { TextPart: undefined, HTMLPart: undefined },
    'send-0003',
    ['HTMLPart', 'TextPart', 'TemplateID'],
  ],
  ['an empty To', { To: [] }, 'mj-0007', ['To']],
  ['no To at all', { To: undefined }, 'mj-0003', ['To']],
  ['51 recipients', { To: recipients(40), Cc: recipients(11) }, 'send-0015', ['To', 'Cc', 'Bcc']],
  ['a 256-character Subject', { Subject: 's'.repeat(256) }, 'mj-0006', ['Subject']],
];

describe('POST /v3.1/send: rejected messages', () => {
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

  it.each(INVALID_MESSAGES)(
    'When a message has %s, then 400 with a per-message error',
    async (_what, fields, code, relatedTo) => {
      const message = buildMessage(fields);

      const error = await sendExpectingError(sandbox, 'protocol', { Messages: [message] });

      expect(error.statusCode).toBe(400);
      const [entry] = error.response!.data.Messages;
      expect(Object.keys(entry)).toEqual(['Status', 'Errors']);
      expect(entry.Errors).toEqual([
        {
          ErrorIdentifier: expect.any(String),
          ErrorCode: code,
          StatusCode: 400,
          ErrorMessage: expect.any(String),
          ErrorRelatedTo: relatedTo,
        },
      ]);
      // node-mailjet copies only top-level fields: a per-message error leaves them unset.
      expect(error.ErrorCode).toBeUndefined();
      expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
    },
  );

  it('When an email is invalid, then the message quotes it as Mailjet does', async () => {
    const error = await sendExpectingError(sandbox, 'protocol', {
      Messages: [buildMessage({ To: [{ Email: 'x@' }] })],
    });

    expect(error.response?.data.Messages[0].Errors[0].ErrorMessage).toBe('"x@" is an invalid email address.');
    expect(error.message).toContain('"x@" is an invalid email address.');
  });

  it('When a Subject has exactly 255 characters, then it is accepted', async () => {
    const message = buildMessage({ Subject: 'é'.repeat(255) });

    const response = await callSandbox(
      sandbox,
      'POST',
      '/v3.1/send',
      { Messages: [message] },
      basicAuth('sandbox-key', 'sandbox-secret'),
    );

    expect(response.status).toBe(200);
  });

  it.each(CLIENT_MODES)(
    'When a batch mixes a good and a bad message (%s mode), then 400, good one kept',
    async (mode) => {
      const good = buildMessage();
      const bad = buildMessage({ To: [{ Email: 'broken@' }] });

      const error = await sendExpectingError(sandbox, mode, { Messages: [bad, good] });

      expect(error.statusCode).toBe(400);
      const [badEntry, goodEntry] = error.response!.data.Messages;
      expect(badEntry.Status).toBe('error');
      expect(goodEntry).toMatchObject({ Status: 'success', CustomID: good.CustomID });
      expect(sandbox.store.list({ customId: good.CustomID })).toHaveLength(1);
      expect(sandbox.store.list({ customId: bad.CustomID })).toEqual([]);
    },
  );

  it('When Messages is empty, then a global mj-0007 error that node-mailjet copies onto its error', async () => {
    const error = await sendExpectingError(sandbox, 'protocol', { Messages: [] });

    expect(error.statusCode).toBe(400);
    expect(error.response?.data.Messages).toBeUndefined();
    expect(error.ErrorCode).toBe('mj-0007');
    expect(error.ErrorRelatedTo).toEqual(['Messages']);
  });

  it('When 51 messages are sent, then a global mj-0008 error and none is kept', async () => {
    const messages = Array.from({ length: 51 }, () => buildMessage());

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: messages });

    expect(error.statusCode).toBe(400);
    expect(error.ErrorCode).toBe('mj-0008');
    expect(sandbox.store.list({ customId: messages[0]?.CustomID })).toEqual([]);
  });

  it('When the messages of a call have more than 50 recipients in all, then a global send-0015 error and none is kept', async () => {
    const messages = Array.from({ length: 26 }, () => buildMessage({ To: recipients(2) }));

    const error = await sendExpectingError(sandbox, 'protocol', { Messages: messages });

    expect(error.statusCode).toBe(400);
    expect(error.ErrorCode).toBe('send-0015');
    expect(error.ErrorRelatedTo).toEqual(['Messages']);
    expect(sandbox.store.list({ customId: messages[0]?.CustomID })).toEqual([]);
  });

  it('When the body is malformed JSON, then the global mj-0002 body, with no Messages', async () => {
    const response = await callSandbox(
      sandbox,
      'POST',
      '/v3.1/send',
      '{"Messages": [',
      basicAuth('sandbox-key', 'sandbox-secret'),
    );

    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      ErrorIdentifier: expect.any(String),
      ErrorCode: 'mj-0002',
      ErrorMessage: 'Malformed JSON, please review the syntax and properties types.',
      StatusCode: 400,
    });
  });

  it('When node-mailjet is given a string that is not JSON, then it arrives as a JSON string and gets mj-0002', async () => {
    const error = await sendExpectingError(sandbox, 'protocol', '{"Messages": [');

    expect(error.statusCode).toBe(400);
    expect(error.ErrorCode).toBe('mj-0002');
    expect(error.ErrorMessage).toBe('Malformed JSON, please review the syntax and properties types.');
  });

  it('When the body exceeds the size limit, then 413 and nothing kept', async () => {
    const small = await startSandbox({ port: 0, maxBodyBytes: 1_000 });
    try {
      const message = buildMessage({ TextPart: 'x'.repeat(2_000) });

      const error = await sendExpectingError(small, 'protocol', { Messages: [message] });

      expect(error.statusCode).toBe(413);
      expect(small.store.size).toBe(0);
    } finally {
      await small.stop();
    }
  });
});
