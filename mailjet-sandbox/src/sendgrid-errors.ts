/**
 * SendGrid's error shape on every non-2xx JSON answer: one entry per problem, `field` naming the
 * property (`personalizations.0.to.0.email`) or null, `help` a link or null. Only `message` is
 * required by SendGrid's spec; the sandbox always writes the three fields, as real bodies do.
 */
export type SendGridError = { message: string; field: string | null; help: string | null };
export type SendGridErrorBody = { errors: SendGridError[] };

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

export function sendGridError(message: string, field: string | null, anchor?: string): SendGridError {
  return { message, field, help: anchor === undefined ? null : `${HELP}#${anchor}` };
}

export const errorBody = (errors: SendGridError[]): SendGridErrorBody => ({ errors });

/** A key SendGrid does not know, revoked or expired. Exhausted credits answer 401 too. */
export const unauthorized = () =>
  errorBody([sendGridError('The provided authorization grant is invalid, expired, or revoked', null)]);

/** The sender is not a verified Sender Identity of the account: SendGrid's 403, word for word. */
export const unverifiedSender = () =>
  errorBody([
    sendGridError(
      'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements',
      'from',
    ),
  ]);

/** The generic v3 body; SendGrid documents no Retry-After on mail/send. */
export const tooManyRequests = () => errorBody([sendGridError('too many requests', null)]);

export const internalServerError = () => errorBody([sendGridError('internal server error', null)]);

/** SendGrid's 413 body is undocumented beyond its spec's example: this is the sandbox's wording. */
export const contentTooLarge = () => errorBody([sendGridError('content too large', null)]);

/** SendGrid's 415 for a body that is not valid UTF-8, in its documented words. */
export const invalidUtf8 = () => errorBody([sendGridError('Invalid UTF8 in request', null)]);

export const malformedBody = () =>
  errorBody([sendGridError('The request body is not valid JSON: it must be a JSON object.', null)]);
