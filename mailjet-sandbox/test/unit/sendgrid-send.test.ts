import type { MailDataRequired } from '@sendgrid/mail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/index.js';
import { uniqueEmail, uniqueId } from '../support/messages.js';
import { callSandbox } from '../support/sandbox-http.js';
import {
  buildMailSendBody,
  buildSendGridMail,
  postMailSend,
  rejectionOf,
  sendThroughSendGrid,
} from '../support/sendgrid-clients.js';

const X_MESSAGE_ID = /^[A-Za-z0-9_-]{22}$/;

describe('POST /v3/mail/send: accepted (SendGrid through @sendgrid/mail)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  it('When a valid mail is sent, then 202 with an empty body and an X-Message-Id, and the inbox keeps it as SendGrid’s', async () => {
    const mail = buildSendGridMail();

    const { status, body, headers } = await sendThroughSendGrid(sandbox, mail);

    expect(status).toBe(202);
    expect(body).toBe('');
    expect(headers['x-message-id']).toMatch(X_MESSAGE_ID);
    const stored = sandbox.store.list({ trackingId: mail.customArgs.trackingId });
    expect(stored).toEqual([
      expect.objectContaining({
        provider: 'sendgrid',
        MessageID: headers['x-message-id'],
        from: mail.from,
        to: [mail.to],
        subject: mail.subject,
        content: [
          { type: 'text/plain', value: mail.text },
          { type: 'text/html', value: mail.html },
        ],
        custom_args: mail.customArgs,
        Recipients: [{ Type: 'To', Email: mail.to.email, MessageID: headers['x-message-id'] }],
      }),
    ]);
  });

  it('When the raw answer is read, then it has SendGrid’s headers: text/plain, no content', async () => {
    const response = await callSandbox(sandbox, 'POST', '/v3/mail/send', buildMailSendBody(), {
      Authorization: `bearer ${sandbox.sendgridApiKey}`,
    });

    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('content-length')).toBe('0');
  });

  it('When GET /sandbox/messages filters by provider and trackingId, then only that provider’s message for that id', async () => {
    const mail = buildSendGridMail();
    await sendThroughSendGrid(sandbox, mail);
    const { trackingId } = mail.customArgs;

    const bySendGrid = await callSandbox(
      sandbox,
      'GET',
      `/sandbox/messages?provider=sendgrid&trackingId=${trackingId}`,
    );
    const byMailjet = await callSandbox(sandbox, 'GET', `/sandbox/messages?provider=mailjet&trackingId=${trackingId}`);
    const wrong = await callSandbox(sandbox, 'GET', '/sandbox/messages?provider=postmark');

    expect(bySendGrid.json().messages.map((m: any) => m.custom_args.trackingId)).toEqual([trackingId]);
    expect(byMailjet.json().messages).toEqual([]);
    expect(wrong.status).toBe(400);
    expect(wrong.json().error.details).toEqual([{ field: 'query.provider', message: expect.any(String) }]);
  });

  it('When a request has several personalizations, then one email each, custom_args merged, one X-Message-Id', async () => {
    const [first, second] = [uniqueEmail(), uniqueEmail()];
    const body = buildMailSendBody({
      personalizations: [
        { to: [{ email: first }], custom_args: { trackingId: uniqueId('first') } },
        { to: [{ email: second }], cc: [{ email: uniqueEmail() }], subject: 'Their own subject' },
      ],
      custom_args: { trackingId: uniqueId('top'), campaign: 'spring' },
    });

    const { status, headers } = await postMailSend(sandbox, body);

    expect(status).toBe(202);
    const [mine] = sandbox.store.list({ to: first });
    const [theirs] = sandbox.store.list({ to: second });
    expect(mine?.custom_args).toEqual({
      trackingId: body.personalizations[0].custom_args.trackingId,
      campaign: 'spring',
    });
    expect(theirs).toMatchObject({ subject: 'Their own subject', custom_args: body.custom_args });
    expect(theirs?.Recipients.map((r) => r.Type)).toEqual(['To', 'Cc']);
    expect([mine?.MessageID, theirs?.MessageID]).toEqual([headers['x-message-id'], headers['x-message-id']]);
  });

  it('When sandbox mode is on, then 200 and nothing is kept', async () => {
    const body = buildMailSendBody({ mail_settings: { sandbox_mode: { enable: true } } });

    const { status } = await postMailSend(sandbox, body);

    expect(status).toBe(200);
    expect(sandbox.store.list({ trackingId: body.custom_args.trackingId })).toEqual([]);
  });
});

describe('POST /v3/mail/send: refused (SendGrid through @sendgrid/client)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, sendgridMaxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  /** The 400's entries as `field: message`, for mails the helper would build or refuse itself. */
  const refusal = async (body: unknown) => {
    const error = await rejectionOf(postMailSend(sandbox, body));
    expect(error.code).toBe(400);
    return error.response?.body.errors as Array<{ message: string; field: string | null; help: string | null }>;
  };

  it('When the key is wrong, then 401 with SendGrid’s body (field and help null) and nothing kept', async () => {
    const mail = buildSendGridMail();

    const error = await rejectionOf(sendThroughSendGrid(sandbox, mail, { apiKey: 'SG.not-the-key' }));

    expect(error.code).toBe(401);
    expect(error.message).toBe('Unauthorized');
    expect(error.response?.body).toEqual({
      errors: [
        { message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null },
      ],
    });
    expect(sandbox.store.list({ trackingId: mail.customArgs.trackingId })).toEqual([]);
  });

  it('When the sender’s domain is refused (refuseSenders), then 403 on from with SendGrid’s Sender Identity text, nothing kept', async () => {
    sandbox.faults.set({ refuseSenders: 'notify.example', provider: 'sendgrid' });
    const mail = buildSendGridMail();
    const fromOtherDomain = buildSendGridMail({ from: { email: 'tickets@verified.example' } });

    const error = await rejectionOf(sendThroughSendGrid(sandbox, mail));
    const accepted = await sendThroughSendGrid(sandbox, fromOtherDomain).finally(() => sandbox.faults.clear());

    expect(error.code).toBe(403);
    expect(error.response?.body).toEqual({
      errors: [
        {
          message: expect.stringMatching(/^The from address does not match a verified Sender Identity\./),
          field: 'from',
          help: null,
        },
      ],
    });
    expect(sandbox.store.list({ trackingId: mail.customArgs.trackingId })).toEqual([]);
    expect(accepted.status).toBe(202);
  });

  it('When no Authorization header is sent, then 401', async () => {
    const response = await callSandbox(sandbox, 'POST', '/v3/mail/send', buildMailSendBody());

    expect(response.status).toBe(401);
    expect(response.json().errors[0].field).toBeNull();
  });

  it('When from, personalizations and content are missing, then one entry per problem, each naming its field', async () => {
    const errors = await refusal({ subject: 'Hello' });

    expect(errors.map((error) => error.field)).toEqual(['from.email', 'personalizations', 'content']);
    expect(errors[0]?.help).toMatch(/^http:\/\/sendgrid\.com\/docs\/.+#message\.from$/);
  });

  it('When text/html comes before text/plain, then 400 on content with the RFC 1341 text and no help', async () => {
    const { text: _text, html: _html, ...rest } = buildSendGridMail();
    const mail = {
      ...rest,
      content: [
        { type: 'text/html', value: '<p>Hi</p>' },
        { type: 'text/plain', value: 'Hi' },
      ],
    } as MailDataRequired;

    const error = await rejectionOf(sendThroughSendGrid(sandbox, mail));

    expect(error.code).toBe(400);
    expect(error.response?.body.errors).toEqual([
      { message: expect.stringMatching(/^Following RFC 1341, section 7\.2/), field: 'content', help: null },
    ]);
  });

  it('When a recipient address is invalid, then 400 naming personalizations.0.to.0.email', async () => {
    const errors = await refusal(buildMailSendBody({ personalizations: [{ to: [{ email: 'not-an-address' }] }] }));

    expect(errors).toEqual([
      {
        message: 'Does not contain a valid address.',
        field: 'personalizations.0.to.0.email',
        help: expect.stringMatching(/^http:\/\/sendgrid\.com\/docs\/.+#message\.personalizations\.to$/),
      },
    ]);
  });

  it('When the from address is invalid, then 400 on from.email with help at the from section, as SendGrid writes it', async () => {
    const errors = await refusal(buildMailSendBody({ from: { email: 'not-an-address' } }));

    expect(errors).toEqual([
      {
        message: 'The from email does not contain a valid address.',
        field: 'from.email',
        help: expect.stringMatching(/^http:\/\/sendgrid\.com\/docs\/.+#message\.from$/),
      },
    ]);
  });

  it('When an address is in both to and cc, then 400 quoting it, on the cc field', async () => {
    const email = uniqueEmail();
    const errors = await refusal(
      buildMailSendBody({ personalizations: [{ to: [{ email }], cc: [{ email: email.toUpperCase() }] }] }),
    );

    expect(errors).toEqual([
      expect.objectContaining({
        field: 'personalizations.0.cc',
        message: expect.stringContaining(email.toUpperCase()),
      }),
    ]);
  });

  it('When a personalization has no to, then 400 on personalizations.N.to', async () => {
    const errors = await refusal(
      buildMailSendBody({ personalizations: [{ to: [{ email: uniqueEmail() }] }, { cc: [{ email: uniqueEmail() }] }] }),
    );

    expect(errors.map((error) => error.field)).toEqual(['personalizations.1.to']);
  });

  it('When there are more than 1000 personalizations, then 400 on personalizations', async () => {
    const personalizations = Array.from({ length: 1_001 }, (_, index) => ({
      to: [{ email: `p${index}@example.com` }],
    }));
    const big = await startSandbox({ port: 0 });
    try {
      const error = await rejectionOf(postMailSend(big, buildMailSendBody({ personalizations })));

      expect(error.code).toBe(400);
      expect(error.response?.body.errors.map((e: { field: string }) => e.field)).toEqual(['personalizations']);
    } finally {
      await big.stop();
    }
  });

  it('When to, cc and bcc hold more than 1000 recipients in all, then 400 on the recipient limit', async () => {
    const list = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => ({ email: `${prefix}${index}@example.com` }));
    const personalizations = [
      { to: list('a', 400), cc: list('b', 100) },
      { to: list('c', 400), bcc: list('d', 101) },
    ];

    const errors = await refusal(buildMailSendBody({ personalizations }));

    expect(errors).toEqual([
      expect.objectContaining({ field: 'personalizations', message: expect.stringMatching(/no more than 1000/) }),
    ]);
  });

  it('When a name holds a comma, or custom_args a number, then 400 naming each field', async () => {
    const errors = await refusal(
      buildMailSendBody({
        personalizations: [{ to: [{ email: uniqueEmail(), name: 'Lovelace, Ada' }] }],
        custom_args: { trackingId: 7 },
      }),
    );

    expect(errors.map((error) => error.field)).toEqual(['personalizations.0.to.0.name', 'custom_args']);
  });

  it('When headers set a reserved header or a value that is not a string, then 400 naming each headers field', async () => {
    const errors = await refusal(
      buildMailSendBody({
        personalizations: [{ to: [{ email: uniqueEmail() }], headers: { 'X-Count': 3 } }],
        headers: { 'reply-to': 'someone@example.com', 'X-Ticket': 'T-1' },
      }),
    );

    expect(errors.map((error) => error.field)).toEqual(['personalizations.0.headers', 'headers']);
  });

  it('When headers hold only custom string headers, then it is accepted and they are kept', async () => {
    const body = buildMailSendBody({ headers: { 'X-Ticket': 'T-1', 'List-Unsubscribe': '<mailto:u@example.com>' } });

    const { status } = await postMailSend(sandbox, body);

    expect(status).toBe(202);
    expect(sandbox.store.list({ trackingId: body.custom_args.trackingId })[0]).toMatchObject({ headers: body.headers });
  });

  it('When categories are more than 10, repeat one or are over 255 characters, then 400 on categories', async () => {
    const eleven = Array.from({ length: 11 }, (_, index) => `c${index}`);

    const tooMany = await refusal(buildMailSendBody({ categories: eleven }));
    const repeated = await refusal(buildMailSendBody({ categories: ['tickets', 'tickets'] }));
    const tooLong = await refusal(buildMailSendBody({ categories: ['x'.repeat(256)] }));
    const accepted = await postMailSend(sandbox, buildMailSendBody({ categories: eleven.slice(0, 10) }));

    expect([tooMany, repeated, tooLong].map((errors) => errors.map((error) => error.field))).toEqual([
      ['categories'],
      ['categories'],
      ['categories'],
    ]);
    expect(accepted.status).toBe(202);
  });

  it('When reply_to and reply_to_list are both given, or the list holds a bad address, then 400 naming the field', async () => {
    const both = await refusal(
      buildMailSendBody({ reply_to: { email: uniqueEmail() }, reply_to_list: [{ email: uniqueEmail() }] }),
    );
    const badEntry = await refusal(buildMailSendBody({ reply_to_list: [{ email: uniqueEmail() }, { email: 'nope' }] }));
    const accepted = await postMailSend(sandbox, buildMailSendBody({ reply_to_list: [{ email: uniqueEmail() }] }));

    expect(both.map((error) => error.field)).toEqual(['reply_to_list']);
    expect(badEntry.map((error) => error.field)).toEqual(['reply_to_list.1.email']);
    expect(accepted.status).toBe(202);
  });

  it('When the body is over the size limit, then 413 with an errors body', async () => {
    const error = await rejectionOf(sendThroughSendGrid(sandbox, buildSendGridMail({ text: 'x'.repeat(70 * 1024) })));

    expect(error.code).toBe(413);
    expect(error.response?.body).toEqual({ errors: [{ message: 'content too large', field: null, help: null }] });
  });

  it('When the body is not valid UTF-8, then 415 as SendGrid answers, and nothing kept', async () => {
    const body = buildMailSendBody();
    const latin1 = Buffer.from(JSON.stringify({ ...body, subject: 'Cafe' }), 'utf8');
    // Latin-1 é (0xE9) where UTF-8 needs two bytes: what a client that mis-encodes its body sends.
    latin1[latin1.indexOf('Cafe') + 3] = 0xe9;

    const response = await fetch(`${sandbox.url}/v3/mail/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sandbox.sendgridApiKey}` },
      body: latin1,
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Invalid UTF8 in request', field: null, help: null }],
    });
    expect(sandbox.store.list({ trackingId: body.custom_args.trackingId })).toEqual([]);
  });

  it('When the subject is missing but every personalization has one, then it is accepted', async () => {
    const body = buildMailSendBody({ personalizations: [{ to: [{ email: uniqueEmail() }], subject: 'Own' }] });
    delete body.subject;

    const { status } = await postMailSend(sandbox, body);

    expect(status).toBe(202);
  });
});
