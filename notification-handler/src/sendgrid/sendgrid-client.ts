import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';

export type SendGridSettings = {
  apiKey: string;
  /** https://api.sendgrid.com in production (https://api.eu.sendgrid.com for EU data); the sandbox locally. */
  apiUrl: string;
  timeoutMs: number;
};

/**
 * A MailService on a Client of its own: `@sendgrid/mail`'s default export is a module-wide
 * singleton, and two handlers in one process (tests) must not share a key, a URL or a timeout.
 * `setApiKey` resets the base URL to api.sendgrid.com, so ours is set after it. The client has no
 * timeout unless told (axios' 0), and no retry of its own.
 */
export function createSendGridMail({ apiKey, apiUrl, timeoutMs }: SendGridSettings): MailService {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', apiUrl);
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(timeoutMs);
  return mail;
}
