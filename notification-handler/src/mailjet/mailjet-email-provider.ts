import type { Logger } from '@notify/shared/platform';
import type { Email, EmailProviderAdapter, SendOutcome } from '../domain/email-provider.js';
import { closeIdleMailjetConnections, createMailjetClient, type MailjetSettings } from './mailjet-client.js';
import { type MailjetClientError, outcomesFromBody, outcomesFromError } from './mailjet-outcomes.js';

/** The email-provider port over Mailjet's Send API v3.1, through the official client. */
export function createMailjetEmailProvider(settings: MailjetSettings, log: Logger): EmailProviderAdapter {
  const client = createMailjetClient(settings);
  let credentialsReported = false;

  return {
    async send(emails: readonly Email[]): Promise<SendOutcome[]> {
      try {
        const { response, body } = await client
          .post('send', { version: 'v3.1' })
          .request({ Messages: emails.map(toMailjetMessage) });
        return outcomesFromBody(body, emails.length, response.status);
      } catch (error) {
        const clientError = error as MailjetClientError;
        if (clientError.statusCode === 401 && !credentialsReported) {
          credentialsReported = true;
          // Every send will fail the same way until the configuration changes.
          log.error(
            { statusCode: 401 },
            'Mailjet refused our credentials: check MAILJET_API_KEY and MAILJET_API_SECRET (and MAILJET_API_URL)',
          );
        }
        return outcomesFromError(clientError, emails.length);
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
