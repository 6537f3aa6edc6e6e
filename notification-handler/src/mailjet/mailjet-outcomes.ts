import { scrubAddresses } from '@notify/shared/platform';
import type { SendOutcome } from '../domain/email-provider.js';
import { parseRetryAfter } from '../domain/retry-after.js';
import { summarizeBody } from '../domain/summarize-body.js';

/** Transient: no HTTP answer, 429 or 5xx. Any other 4xx will fail the same way next time. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

type MailjetError = { ErrorCode?: string; ErrorMessage?: string; StatusCode?: number; ErrorRelatedTo?: unknown };
type MailjetEntry = {
  Status?: string;
  Errors?: MailjetError[];
  To?: Array<{ MessageID?: unknown; MessageUUID?: string }>;
};

/** Mailjet v3.1 answers per message: each entry's Status decides, not the HTTP code alone. */
export function outcomesFromBody(body: unknown, count: number, httpStatus: number): SendOutcome[] {
  const entries = (body as { Messages?: unknown } | null)?.Messages;
  if (!Array.isArray(entries) || entries.length !== count) {
    // We cannot tell which messages went out; retrying risks a duplicate, dropping risks a loss.
    return Array.from({ length: count }, () => ({
      kind: 'failed',
      transient: true,
      httpStatus,
      errorCode: 'unexpected_response',
      reason: `HTTP ${httpStatus} without one Messages entry per email`,
    }));
  }
  return entries.map((entry: MailjetEntry) => outcomeOf(entry, httpStatus));
}

function outcomeOf(entry: MailjetEntry, httpStatus: number): SendOutcome {
  if (entry?.Status === 'success') {
    const recipient = entry.To?.[0];
    return {
      kind: 'sent',
      providerMessageId: String(recipient?.MessageID ?? recipient?.MessageUUID ?? ''),
      httpStatus,
    };
  }
  const error = entry?.Errors?.[0];
  const status = error?.StatusCode ?? httpStatus;
  // Read as the body came, not as documented: an answer that breaks the shape (a proxy's, an API
  // change) must still become an outcome, never an exception that no outcome follows.
  const related = relatedFields(error?.ErrorRelatedTo);
  const reason = mailjetReason(
    `${error?.ErrorCode ?? `HTTP ${status}`}: ${error?.ErrorMessage ?? 'message refused'}${related}`,
  );
  // A sender the account has not validated (send-0008), or an address it refuses as a sender (a
  // 400 related to From): MAIL_FROM_EMAIL is every email's sender, so every email would be refused
  // the same way until someone changes it. A configuration error, like a refused key, not a fault
  // of this email.
  if (status === 403 || (status === 400 && relatedList(error?.ErrorRelatedTo).some(isSenderField))) {
    return {
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: status,
      errorCode: error?.ErrorCode,
      reason,
    };
  }
  return {
    kind: 'failed',
    transient: isTransientStatus(status),
    httpStatus: status,
    errorCode: error?.ErrorCode,
    reason,
  };
}

/** What node-mailjet puts on its errors (it copies top-level body fields, keeps the response). */
export type MailjetClientError = Error & {
  statusCode?: number | null;
  code?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
  statusText?: string | null;
  response?: { data?: unknown; headers?: Record<string, unknown> } | null;
};

export function outcomesFromError(error: MailjetClientError, count: number): SendOutcome[] {
  const status = error.statusCode ?? undefined;
  if (status === undefined) {
    const code = error.code ?? 'network_error';
    const reason = code === 'ECONNABORTED' ? 'no answer within the timeout' : `no HTTP answer (${code})`;
    return repeat(count, { kind: 'failed', transient: true, errorCode: code, reason });
  }
  const data = error.response?.data;
  const perMessage = Array.isArray((data as { Messages?: unknown })?.Messages);
  // Credentials refused (a key revoked, rotated, mistyped), or the account refusing us whole (403
  // without an entry per message): every email would fail the same way until the configuration
  // changes, and none of them is at fault. A configuration error, transient for the email: the
  // guard opens the breaker, the next provider takes the email or consumption pauses, and the
  // messages wait in the queue instead of failing.
  if (status === 401 || (status === 403 && !perMessage)) {
    return repeat(count, {
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: status,
      errorCode: error.ErrorCode,
      reason: mailjetReason(`HTTP ${status}: ${describeError(error)}`),
    });
  }
  // Answers per message: a 400 with some refused (the others were sent), and a 403 refusing the
  // sender (send-0008, related to From), whose code and field only its entries carry.
  if (status < 500 && status !== 429 && perMessage) {
    return outcomesFromBody(data, count, status);
  }
  const retryAfterMs = parseRetryAfter(error.response?.headers?.['retry-after']);
  return repeat(count, {
    kind: 'failed',
    transient: isTransientStatus(status),
    httpStatus: status,
    errorCode: error.ErrorCode,
    reason: mailjetReason(`HTTP ${status}: ${describeError(error)}`),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/**
 * Mailjet's JSON error says what went wrong. A non-JSON page (429, a proxy's 502/503) reaches us as
 * an empty object, and node-mailjet's own ErrorMessage is then generic: the status text says more.
 */
function describeError(error: MailjetClientError): string {
  const data = error.response?.data;
  const fromBody = typeof data === 'string' ? summarizeBody(data) : (data as { ErrorMessage?: unknown })?.ErrorMessage;
  return typeof fromBody === 'string' && fromBody ? fromBody : error.statusText || 'no details';
}

export { parseRetryAfter };

/**
 * Mailjet's texts quote the address they refuse (`"x@y" is an invalid email address.`). A reason is
 * logged, stored on the attempt and the row, and sent with the dead letter: only the row's
 * recipient field may hold the address in clear.
 */
function mailjetReason(text: string): string {
  return scrubAddresses(text);
}

function relatedFields(related: unknown): string {
  const fields = relatedList(related);
  return fields.length > 0 ? ` (${fields.join(', ')})` : '';
}

function relatedList(related: unknown): string[] {
  const fields = Array.isArray(related) ? related : related === undefined || related === null ? [] : [related];
  return fields.map(String);
}

const isSenderField = (field: string) => /^From(\.|$)/.test(field);

function repeat(count: number, outcome: SendOutcome): SendOutcome[] {
  return Array.from({ length: count }, () => ({ ...outcome }));
}
