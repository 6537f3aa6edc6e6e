import type { Logger } from '@notify/shared/platform';
import type { Email, EmailProviderAdapter, SendOutcome } from '../domain/email-provider.js';
import { configurationRefusalReporter } from '../provider-guard/configuration-refusals.js';
import { closeIdleMailjetConnections, createMailjetClient, type MailjetSettings } from './mailjet-client.js';
import { type MailjetClientError, outcomesFromBody, outcomesFromError } from './mailjet-outcomes.js';

/** What to check when Mailjet refuses us rather than an email, by HTTP status. */
const CONFIGURATION_HINTS: Record<number, string> = {
  400: 'Mailjet refused our sender: check MAIL_FROM_EMAIL and MAIL_FROM_NAME',
  401: 'Mailjet refused our credentials: check MAILJET_API_KEY and MAILJET_API_SECRET (and MAILJET_API_URL)',
  403: 'Mailjet refused our sender: validate MAIL_FROM_EMAIL (or its domain) as a sender of the Mailjet account',
};

/** The email-provider port over Mailjet's Send API v3.1, through the official client. */
export function createMailjetEmailProvider(settings: MailjetSettings, log: Logger): EmailProviderAdapter {
  const client = createMailjetClient(settings);
  const reportRefusal = configurationRefusalReporter('Mailjet', CONFIGURATION_HINTS, log);

  return {
    async send(emails: readonly Email[]): Promise<SendOutcome[]> {
      try {
        const { response, body } = await client
          .post('send', { version: 'v3.1' })
          .request({ Messages: emails.map(toMailjetMessage) });
        return outcomesFromBody(body, emails.length, response.status);
      } catch (error) {
        const outcomes = outcomesFromError(error as MailjetClientError, emails.length);
        reportRefusal(outcomes);
        return outcomes;
      }
    },
    closeConnections: closeIdleMailjetConnections,
  };
}

function toMailjetMessage(email: Email) {
  return {
    From: { Email: email.from.email, Name: email.from.name },
    To: [{ Email: email.to.email, Name: email.to.name }],
    Subject: email.subject,
    TextPart: email.text,
    HTMLPart: email.html,
    CustomID: email.customId,
  };
}
