import { scrubAddresses } from '@notify/shared/platform';
import type { SendOutcome } from '../domain/email-provider.js';
import { parseRetryAfter } from '../domain/retry-after.js';
import { summarizeBody } from '../domain/summarize-body.js';

type FailedOutcome = Extract<SendOutcome, { kind: 'failed' }>;

/** What `@sendgrid/client` resolves with: its Response (`statusCode`, lower-cased headers). */
export type SendGridResponse = { statusCode: number; headers: Record<string, unknown> };

/**
 * What it rejects with. An HTTP error is a ResponseError: `code` the status (a number), `message`
 * the status text, `response.body` SendGrid's JSON (`{errors: [{message, field, help}]}`) or the
 * raw text of a proxy's page. No answer (timeout, refused connection) is the raw axios error:
 * `code` a string, and its `config` holds our API key, so only `code` is ever read from it.
 */
export type SendGridClientError = {
  code?: unknown;
  message?: unknown;
  isAxiosError?: unknown;
  response?: { headers?: Record<string, unknown>; body?: unknown } | undefined;
};

/** Bound on a reason built from SendGrid's error entries: it is stored and logged. */
const MAX_REASON_LENGTH = 500;

/** 202 (200 in sandbox mode): sent; SendGrid's id is the X-Message-Id header of the answer. */
export function outcomeFromResponse(response: SendGridResponse): SendOutcome {
  const messageId = response.headers['x-message-id'];
  return {
    kind: 'sent',
    providerMessageId: typeof messageId === 'string' ? messageId : '',
    httpStatus: response.statusCode,
  };
}

/**
 * 400, 413 and any other 4xx: permanent, the same email fails the same way. 401 (key refused, or
 * credits exhausted), 403 (the sender is not a verified Sender Identity, or the key lacks the
 * Mail Send permission) and a 400 that refuses the sender's address: a configuration error,
 * transient for the email, since every email would be refused the same way until someone changes
 * the account or the settings.
 * 429 and 5xx: transient, with Retry-After (or X-RateLimit-Reset) when SendGrid gives one. No
 * answer: transient. An error the client raised before sending (it refused the request itself):
 * permanent.
 */
export function outcomeFromError(error: unknown, now = Date.now()): FailedOutcome {
  const clientError = (error ?? {}) as SendGridClientError;
  if (typeof clientError.code === 'number') return outcomeOfStatus(clientError.code, clientError, now);
  if (clientError.isAxiosError === true || typeof clientError.code === 'string') {
    const code = typeof clientError.code === 'string' ? clientError.code : 'network_error';
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
    return {
      kind: 'failed',
      transient: true,
      errorCode: code,
      reason: timedOut ? 'no answer within the timeout' : `no HTTP answer (${code})`,
    };
  }
  const message = typeof clientError.message === 'string' ? clientError.message : 'unknown error';
  return {
    kind: 'failed',
    transient: false,
    errorCode: 'invalid_request',
    reason: sendGridReason(`SendGrid client refused the email: ${message}`),
  };
}

function outcomeOfStatus(status: number, error: SendGridClientError, now: number): FailedOutcome {
  const statusText = typeof error.message === 'string' ? error.message : '';
  const reason = sendGridReason(`HTTP ${status}: ${describeBody(error.response?.body, statusText)}`);
  if (status === 401 || status === 403 || (status === 400 && refusesSender(error.response?.body))) {
    return { kind: 'failed', transient: true, configurationError: true, httpStatus: status, reason };
  }
  if (status !== 429 && status < 500) return { kind: 'failed', transient: false, httpStatus: status, reason };
  const retryAfterMs = status === 429 || status === 503 ? retryAfterOf(error.response?.headers ?? {}, now) : undefined;
  return {
    kind: 'failed',
    transient: true,
    httpStatus: status,
    reason,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * A 400 that names the sender (`from`, `from.email`): MAIL_FROM_EMAIL is every email's sender, so
 * every email would be refused the same way, whatever else the answer lists.
 */
function refusesSender(body: unknown): boolean {
  return errorEntries(body).some((entry) => typeof entry?.field === 'string' && /^from(\.|$)/.test(entry.field));
}

type ErrorEntry = { message?: unknown; field?: unknown } | null | undefined;

/** SendGrid's `errors[]`, or none when the body is not its JSON (a proxy's page, nothing). */
function errorEntries(body: unknown): ErrorEntry[] {
  const entries = (body as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(entries) ? entries : [];
}

/** Each `errors[]` entry with the field it names; a page that is not JSON, in one line. */
function describeBody(body: unknown, statusText: string): string {
  if (typeof body === 'string' && body.trim() !== '') return summarizeBody(body);
  const entries = errorEntries(body);
  if (entries.length > 0) {
    const text = entries
      .map((entry) =>
        typeof entry?.field === 'string' && entry.field !== '' && entry.field !== 'null'
          ? `${String(entry.message)} (${entry.field})`
          : String(entry?.message),
      )
      .join('; ');
    return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}...` : text;
  }
  return statusText || 'no details';
}

/**
 * SendGrid documents no Retry-After on mail/send, and says its X-RateLimit-* headers are not sent
 * there either: both are read when present, Retry-After first; the guard's default pause otherwise.
 */
function retryAfterOf(headers: Record<string, unknown>, now: number): number | undefined {
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1_000 - now) : undefined;
}

/**
 * SendGrid's texts may quote an address (a duplicate recipient): a reason is logged, stored on the
 * attempt and the row, and sent with the dead letter, so addresses are masked first.
 */
function sendGridReason(text: string): string {
  return scrubAddresses(text);
}
