import { Client } from '@sendgrid/client';
import { type MailDataRequired, MailService } from '@sendgrid/mail';
import type { Sandbox } from '../../src/index.js';
import { uniqueEmail, uniqueId } from './messages.js';

// axios (under @sendgrid/client) honours proxy variables: they would route the tests elsewhere.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) {
  delete process.env[name];
}

export type SendGridClientOptions = { apiKey?: string; timeoutMs?: number };

/**
 * The official client pointed at the sandbox, as the handler does it: a Client of its own (not the
 * module's singleton), the base URL set after `setApiKey` (which resets it to api.sendgrid.com),
 * a timeout (none by default).
 */
export function sendGridClient(sandbox: Sandbox, options: SendGridClientOptions = {}) {
  const client = new Client();
  client.setApiKey(options.apiKey ?? sandbox.sendgridApiKey);
  client.setDefaultRequest('baseUrl', sandbox.url);
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(options.timeoutMs ?? 5_000);
  return { client, mail };
}

export type SendGridResult = { status: number; body: unknown; headers: Record<string, unknown> };

/** POST /v3/mail/send through @sendgrid/mail (its helper builds the body from camelCase fields). */
export async function sendThroughSendGrid(
  sandbox: Sandbox,
  data: MailDataRequired,
  options: SendGridClientOptions = {},
): Promise<SendGridResult> {
  const [response] = await sendGridClient(sandbox, options).mail.send(data);
  return { status: response.statusCode, body: response.body, headers: response.headers as Record<string, unknown> };
}

/** POST /v3/mail/send with a raw body through @sendgrid/client: for bodies the helper would refuse. */
export async function postMailSend(sandbox: Sandbox, body: unknown, options: SendGridClientOptions = {}) {
  const [response] = await sendGridClient(sandbox, options).client.request({
    method: 'POST',
    url: '/v3/mail/send',
    body,
  });
  return { status: response.statusCode, body: response.body, headers: response.headers as Record<string, unknown> };
}

/** What @sendgrid/client rejects with: a ResponseError (numeric code) or the raw AxiosError (string code). */
export type SendGridClientError = Error & {
  code: number | string;
  response?: { headers: Record<string, unknown>; body: any };
  config?: { headers?: Record<string, unknown> };
};

/** Resolves with the rejection of `send`, throws if it succeeded. */
export async function rejectionOf(send: Promise<unknown>): Promise<SendGridClientError> {
  try {
    await send;
  } catch (error) {
    return error as SendGridClientError;
  }
  throw new Error('expected the send to fail, it succeeded');
}

/** A valid send with a unique tracking id (custom_args.trackingId) and recipient; override any field. */
export function buildSendGridMail(overrides: Partial<MailDataRequired> = {}): MailDataRequired & {
  customArgs: { trackingId: string };
  to: { email: string; name: string };
} {
  return {
    from: { email: 'tickets@notify.example', name: 'Notify' },
    to: { email: uniqueEmail(), name: 'Ada Lovelace' },
    subject: 'Your ticket is in your checkout',
    text: 'Hello Ada, your ticket is waiting.',
    html: '<p>Hello Ada, your ticket is waiting.</p>',
    customArgs: { trackingId: uniqueId('sg') },
    ...overrides,
  } as never;
}

/** A raw Mail Send body (SendGrid's own field names), valid unless overridden. */
export function buildMailSendBody(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    personalizations: [{ to: [{ email: uniqueEmail(), name: 'Ada Lovelace' }] }],
    from: { email: 'tickets@notify.example', name: 'Notify' },
    subject: 'Your ticket is in your checkout',
    content: [
      { type: 'text/plain', value: 'Hello Ada.' },
      { type: 'text/html', value: '<p>Hello Ada.</p>' },
    ],
    custom_args: { trackingId: uniqueId('sg') },
    ...overrides,
  };
}
