import type { Logger } from '@notify/shared/platform';
import type { MailDataRequired } from '@sendgrid/mail';
import type { Email, EmailProvider, SendOutcome } from '../domain/email-provider.js';
import { createSendGridMail, type SendGridSettings } from './sendgrid-client.js';
import { outcomeFromError, outcomeFromResponse, type SendGridResponse } from './sendgrid-outcomes.js';

/**
 * The email-provider port over SendGrid's Mail Send v3, through the official client. SendGrid
 * answers a request as a whole (202 or an error), with no outcome per message: one request per
 * email, so that each email gets its own outcome. The tracking id travels in `custom_args`, which
 * SendGrid's event webhook echoes on every event.
 */
export function createSendGridEmailProvider(settings: SendGridSettings, log: Logger): EmailProvider {
  const mail = createSendGridMail(settings);
  let credentialsReported = false;

  async function sendOne(email: Email): Promise<SendOutcome> {
    try {
      const [response] = await mail.send(toSendGridMail(email));
      return outcomeFromResponse(response as unknown as SendGridResponse);
    } catch (error) {
      // Never log `error` itself: a network error from the client carries our API key.
      const outcome = outcomeFromError(error);
      if (outcome.configurationError && !credentialsReported) {
        credentialsReported = true;
        // Every send fails the same way until the configuration changes (or credits come back).
        log.error(
          { statusCode: outcome.httpStatus, reason: outcome.reason },
          'SendGrid refused our API key (or the account ran out of credits): check SENDGRID_API_KEY (and SENDGRID_API_URL)',
        );
      }
      return outcome;
    }
  }

  return { send: (emails) => Promise.all(emails.map(sendOne)) };
}

function toSendGridMail(email: Email): MailDataRequired {
  return {
    from: address(email.from),
    to: address(email.to),
    subject: email.subject,
    // The helper puts text/plain before text/html, the order SendGrid requires.
    text: email.text,
    html: email.html,
    customArgs: { trackingId: email.customId },
  };
}

/** SendGrid refuses a display name holding ';' or ',' (they separate addresses in a header). */
function address({ email, name }: Email['to']): { email: string; name?: string } {
  const displayName = name.replace(/[;,]/g, ' ').replace(/\s+/g, ' ').trim();
  return displayName === '' ? { email } : { email, name: displayName };
}
