import type { Logger } from '@notify/shared/platform';
import type { Email, EmailProviderAdapter, SendOutcome } from '../domain/email-provider.js';
import { configurationRefusalReporter } from '../provider-guard/configuration-refusals.js';
import { createSendGridClient, type SendGridSettings } from './sendgrid-client.js';
import { outcomeFromError, outcomeFromResponse, type SendGridResponse } from './sendgrid-outcomes.js';

/** What to check when SendGrid refuses us rather than an email, by HTTP status. */
const CONFIGURATION_HINTS: Record<number, string> = {
  400: 'SendGrid refused our sender: check MAIL_FROM_EMAIL and MAIL_FROM_NAME',
  401: 'SendGrid refused our API key (or the account ran out of credits): check SENDGRID_API_KEY (and SENDGRID_API_URL)',
  403: 'SendGrid refused our sender: MAIL_FROM_EMAIL must be a verified Sender Identity, and SENDGRID_API_KEY needs the Mail Send permission',
};

/**
 * The email-provider port over SendGrid's Mail Send v3, through the official client. SendGrid
 * answers a request as a whole (202 or an error), with no outcome per message: one request per
 * email, so that each email gets its own outcome. The tracking id travels in `custom_args`, which
 * SendGrid's event webhook echoes on every event.
 */
export function createSendGridEmailProvider(settings: SendGridSettings, log: Logger): EmailProviderAdapter {
  const { client, closeConnections } = createSendGridClient(settings);
  const reportRefusal = configurationRefusalReporter('SendGrid', CONFIGURATION_HINTS, log);

  async function sendOne(email: Email): Promise<SendOutcome> {
    try {
      const [response] = await client.request({ method: 'POST', url: '/v3/mail/send', body: mailSendBody(email) });
      return outcomeFromResponse(response as unknown as SendGridResponse);
    } catch (error) {
      // Never log `error` itself: a network error from the client carries our API key.
      const outcome = outcomeFromError(error);
      reportRefusal([outcome]);
      return outcome;
    }
  }

  return { send: (emails) => Promise.all(emails.map(sendOne)), closeConnections };
}

/**
 * Mail Send v3's body, written out rather than built by `@sendgrid/mail`'s helper: the helper
 * clones and re-keys its input for every email, a tenth of the handler's CPU when SendGrid sends
 * one request per email. text/plain comes before text/html, the order SendGrid requires; the
 * tracking id goes in the message's `custom_args`, which every event of the webhook carries.
 */
function mailSendBody(email: Email): MailSendBody {
  return {
    personalizations: [{ to: [address(email.to)] }],
    from: address(email.from),
    subject: email.subject,
    content: [
      { type: 'text/plain', value: email.text },
      { type: 'text/html', value: email.html },
    ],
    custom_args: { trackingId: email.customId },
  };
}

type MailSendAddress = { email: string; name?: string };
type MailSendBody = {
  personalizations: { to: MailSendAddress[] }[];
  from: MailSendAddress;
  subject: string;
  content: { type: string; value: string }[];
  custom_args: Record<string, string>;
};

/** SendGrid refuses a display name holding ';' or ',' (they separate addresses in a header). */
function address({ email, name }: Email['to']): MailSendAddress {
  const displayName = name.replace(/[;,]/g, ' ').replace(/\s+/g, ' ').trim();
  return displayName === '' ? { email } : { email, name: displayName };
}
