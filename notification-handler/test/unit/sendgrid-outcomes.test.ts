import { describe, expect, it } from 'vitest';
import { outcomeFromError, outcomeFromResponse } from '../../src/sendgrid/sendgrid-outcomes.js';

/** What @sendgrid/client rejects with on an HTTP error: a ResponseError. */
const responseError = (
  code: number,
  body: unknown,
  headers: Record<string, unknown> = {},
  statusText = 'Bad Request',
) => Object.assign(new Error(statusText), { code, response: { headers, body } });

/** And on no answer: the raw axios error, whose config holds the key. */
const axiosError = (code: string) =>
  Object.assign(new Error('timeout of 500ms exceeded'), {
    code,
    isAxiosError: true,
    config: { headers: { Authorization: 'Bearer SG.secret' } },
  });

describe('SendGrid outcome classification', () => {
  it('When SendGrid answers 202, then sent, with the X-Message-Id as the provider message id', () => {
    expect(outcomeFromResponse({ statusCode: 202, headers: { 'x-message-id': '8mw9nktNSBSGQnrHkXny8Q' } })).toEqual({
      kind: 'sent',
      providerMessageId: '8mw9nktNSBSGQnrHkXny8Q',
      httpStatus: 202,
    });
  });

  it('When SendGrid answers 202 without an X-Message-Id (reported to happen), then still sent, with no provider id', () => {
    expect(outcomeFromResponse({ statusCode: 202, headers: {} })).toEqual({
      kind: 'sent',
      providerMessageId: '',
      httpStatus: 202,
    });
  });

  it.each([400, 413, 415])('When SendGrid answers %i, then a permanent failure', (status) => {
    expect(outcomeFromError(responseError(status, { errors: [{ message: 'no', field: null }] }))).toMatchObject({
      kind: 'failed',
      transient: false,
      httpStatus: status,
    });
  });

  it.each([500, 502, 503])('When SendGrid answers %i, then a transient failure', (status) => {
    expect(outcomeFromError(responseError(status, ''))).toMatchObject({
      kind: 'failed',
      transient: true,
      httpStatus: status,
    });
  });

  it('When SendGrid answers 401, then a configuration error: transient for the email, flagged for the breaker', () => {
    const body = { errors: [{ message: 'Maximum credits exceeded', field: null, help: null }] };

    expect(outcomeFromError(responseError(401, body, {}, 'Unauthorized'))).toEqual({
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: 401,
      reason: 'HTTP 401: Maximum credits exceeded',
    });
  });

  it('When SendGrid refuses the sender (403), then a configuration error: every email would be refused the same way', () => {
    const body = {
      errors: [{ message: 'The from address does not match a verified Sender Identity.', field: 'from', help: null }],
    };

    expect(outcomeFromError(responseError(403, body, {}, 'Forbidden'))).toEqual({
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: 403,
      reason: 'HTTP 403: The from address does not match a verified Sender Identity. (from)',
    });
  });

  it('When a 400 lists several errors, then the reason names each with its field, addresses masked', () => {
    const body = {
      errors: [
        { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email', help: 'http://x' },
        {
          message: 'We found the first duplicate instance of [ada@example.com] in the personalizations.0.cc field.',
          field: 'personalizations.0.cc',
          help: null,
        },
      ],
    };

    const { reason } = outcomeFromError(responseError(400, body));

    expect(reason).toBe(
      'HTTP 400: Does not contain a valid address. (personalizations.0.to.0.email); We found the first duplicate instance of [a***@e***.com] in the personalizations.0.cc field. (personalizations.0.cc)',
    );
  });

  it('When a 400 refuses the sender address, then a configuration error: every email would be refused the same way', () => {
    const body = {
      errors: [
        { message: 'The from email does not contain a valid address.', field: 'from.email', help: null },
        { message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email', help: null },
      ],
    };

    expect(outcomeFromError(responseError(400, body))).toMatchObject({
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: 400,
    });
    // A recipient's address alone is this email's fault.
    expect(outcomeFromError(responseError(400, { errors: [body.errors[1]] }))).toMatchObject({ transient: false });
    expect(outcomeFromError(responseError(400, { errors: [body.errors[1]] }))).not.toHaveProperty('configurationError');
  });

  it('When a 502 page is HTML, then the reason is its text in one line', () => {
    const page = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

    expect(outcomeFromError(responseError(502, page, {}, 'Bad Gateway')).reason).toBe(
      'HTTP 502: 502 Bad Gateway 502 Bad Gateway',
    );
  });

  it('When a 429 gives Retry-After, or else X-RateLimit-Reset, then the wait comes from it', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    const withRetryAfter = outcomeFromError(responseError(429, {}, { 'retry-after': '3' }), now);
    const withReset = outcomeFromError(responseError(429, {}, { 'x-ratelimit-reset': String(now / 1_000 + 7) }), now);
    const withNothing = outcomeFromError(responseError(429, {}), now);

    expect([withRetryAfter.retryAfterMs, withReset.retryAfterMs, withNothing.retryAfterMs]).toEqual([
      3_000,
      7_000,
      undefined,
    ]);
    expect(withNothing).toMatchObject({ transient: true, httpStatus: 429 });
  });

  it('When a 503 gives Retry-After, then the wait comes from it, as on Mailjet', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');

    expect(outcomeFromError(responseError(503, '', { 'retry-after': '30' }), now)).toMatchObject({
      transient: true,
      httpStatus: 503,
      retryAfterMs: 30_000,
    });
  });

  it('When no answer came (timeout, refused connection), then transient with the code, and nothing of the error’s config', () => {
    const timedOut = outcomeFromError(axiosError('ECONNABORTED'));
    const refused = outcomeFromError(axiosError('ECONNREFUSED'));

    expect(timedOut).toEqual({
      kind: 'failed',
      transient: true,
      errorCode: 'ECONNABORTED',
      reason: 'no answer within the timeout',
    });
    expect(refused).toMatchObject({ transient: true, reason: 'no HTTP answer (ECONNREFUSED)' });
    expect(JSON.stringify([timedOut, refused])).not.toContain('SG.secret');
  });

  it('When the client threw before sending (neither an HTTP answer nor a network error), then a permanent failure with its message', () => {
    expect(outcomeFromError(new TypeError('Converting circular structure to JSON'))).toEqual({
      kind: 'failed',
      transient: false,
      errorCode: 'invalid_request',
      reason: 'SendGrid client refused the email: Converting circular structure to JSON',
    });
  });
});
