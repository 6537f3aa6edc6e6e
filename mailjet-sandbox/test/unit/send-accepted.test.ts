import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_HREF_PREFIX, type Sandbox, startSandbox } from '../../src/index.js';
import { CLIENT_MODES, sendExpectingError, sendThroughMailjet } from '../support/mailjet-clients.js';
import { buildMessage, uniqueEmail, uniqueId } from '../support/messages.js';
import { basicAuth, callSandbox } from '../support/sandbox-http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('POST /v3.1/send: accepted messages', () => {
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

  it.each(CLIENT_MODES)('When a valid message is sent (%s mode), then 200 and Mailjet success shape', async (mode) => {
    const message = buildMessage();

    const { status, body } = await sendThroughMailjet(sandbox, mode, { Messages: [message] });

    expect(status).toBe(200);
    expect(body.Messages).toHaveLength(1);
    const [entry] = body.Messages;
    expect(Object.keys(entry)).toEqual(['Status', 'CustomID', 'To', 'Cc', 'Bcc']);
    expect(entry).toMatchObject({ Status: 'success', CustomID: message.CustomID, Cc: [], Bcc: [] });
    const [to] = entry.To;
    expect(to.Email).toBe(message.To[0].Email);
    expect(to.MessageUUID).toMatch(UUID);
    expect(to.MessageHref).toBe(`${MESSAGE_HREF_PREFIX}${to.MessageID}`);
  });

  it('When a MessageID crosses node-mailjet, then it arrives as a string above 2^53, digits intact', async () => {
    const message = buildMessage();

    const { body } = await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

    const id = body.Messages[0].To[0].MessageID;
    expect(typeof id).toBe('string');
    expect(BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    const [stored] = sandbox.store.list({ customId: message.CustomID });
    expect(stored?.MessageID).toBe(id);
  });

  it('When the raw answer is read, then MessageIDs are bare JSON integers, as Mailjet writes them', async () => {
    const message = buildMessage();

    const response = await callSandbox(
      sandbox,
      'POST',
      '/v3.1/send',
      { Messages: [message] },
      basicAuth('sandbox-key', 'sandbox-secret'),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.text).toMatch(
      /"MessageID":\d{17,19},"MessageHref":"https:\/\/api\.mailjet\.com\/v3\/REST\/message\/\d+"/,
    );
  });

  it('When sent through a proxy configuration, then the absolute-form target is served and the message kept', async () => {
    const message = buildMessage();

    const { status } = await sendThroughMailjet(sandbox, 'proxy', { Messages: [message] });

    expect(status).toBe(200);
    expect(sandbox.store.list({ customId: message.CustomID })).toHaveLength(1);
  });

  it('When no CustomID is given, then the entry echoes an empty one', async () => {
    const { CustomID: _omitted, ...message } = buildMessage();

    const { body } = await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

    expect(body.Messages[0].CustomID).toBe('');
  });

  it('When a message has Cc and Bcc, then every recipient gets its own id and all are stored', async () => {
    const [cc, bcc] = [uniqueEmail(), uniqueEmail()];
    const message = buildMessage({ Cc: [{ Email: cc }], Bcc: [{ Email: bcc }] });

    const { body } = await sendThroughMailjet(sandbox, 'protocol', { Messages: [message] });

    const entry = body.Messages[0];
    expect(entry.Cc.map((r: any) => r.Email)).toEqual([cc]);
    expect(entry.Bcc.map((r: any) => r.Email)).toEqual([bcc]);
    const ids = [entry.To[0].MessageID, entry.Cc[0].MessageID, entry.Bcc[0].MessageID];
    expect(new Set(ids).size).toBe(3);
    const [stored] = sandbox.store.list({ to: bcc });
    expect(stored?.Recipients.map((r) => [r.Type, r.MessageID])).toEqual([
      ['To', ids[0]],
      ['Cc', ids[1]],
      ['Bcc', ids[2]],
    ]);
  });

  it('When several messages are sent, then the answers come in input order', async () => {
    const messages = [buildMessage(), buildMessage(), buildMessage()];

    const { body } = await sendThroughMailjet(sandbox, 'protocol', { Messages: messages });

    expect(body.Messages.map((entry: any) => entry.CustomID)).toEqual(messages.map((m) => m.CustomID));
  });

  it('When SandboxMode is true, then the answer has empty ids and nothing is kept', async () => {
    const message = buildMessage();

    const { status, body } = await sendThroughMailjet(sandbox, 'protocol', { Messages: [message], SandboxMode: true });

    expect(status).toBe(200);
    expect(body.Messages[0].To[0]).toEqual({
      Email: message.To[0].Email,
      MessageUUID: '',
      MessageID: 0,
      MessageHref: `${MESSAGE_HREF_PREFIX}0`,
    });
    expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
  });

  it('When Globals carry From and TextPart, then messages inherit them and are stored merged', async () => {
    const customId = uniqueId('globals');
    const Globals = { From: { Email: 'globals@notify.example' }, TextPart: 'From the globals' };

    const { status } = await sendThroughMailjet(sandbox, 'protocol', {
      Globals,
      Messages: [{ To: [{ Email: uniqueEmail() }], CustomID: customId }],
    });

    expect(status).toBe(200);
    expect(sandbox.store.list({ customId })[0]).toMatchObject(Globals);
  });

  it.each(CLIENT_MODES)(
    'When the credentials are wrong (%s mode), then 401 with Mailjet body, nothing kept',
    async (mode) => {
      const message = buildMessage();

      const error = await sendExpectingError(sandbox, mode, { Messages: [message] }, { apiSecret: 'wrong' });

      expect(error.statusCode).toBe(401);
      expect(Object.keys(error.response?.data)).toEqual(['ErrorIdentifier', 'StatusCode', 'ErrorMessage']);
      expect(error.response?.data.ErrorMessage).toMatch(/^API key authentication\/authorization failure/);
      expect(error.ErrorIdentifier).toMatch(UUID);
      expect(error.ErrorCode).toBeUndefined();
      expect(sandbox.store.list({ customId: message.CustomID })).toEqual([]);
    },
  );

  it('When the sandbox is started with its own credentials, then only those are accepted', async () => {
    const own = await startSandbox({ port: 0, apiKey: 'team-key', apiSecret: 'team-secret' });
    try {
      const accepted = await sendThroughMailjet(own, 'protocol', { Messages: [buildMessage()] });
      const refused = await sendExpectingError(
        own,
        'protocol',
        { Messages: [buildMessage()] },
        { apiKey: 'sandbox-key' },
      );

      expect(accepted.status).toBe(200);
      expect(refused.statusCode).toBe(401);
    } finally {
      await own.stop();
    }
  });
});
