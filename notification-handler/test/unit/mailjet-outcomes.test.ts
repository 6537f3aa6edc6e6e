import { describe, expect, it } from 'vitest';
import { outcomesFromBody, outcomesFromError, parseRetryAfter } from '../../src/mailjet/mailjet-outcomes.js';

const httpError = (statusCode: number | null, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error('request failed'), { statusCode, ...extra });

describe('Mailjet outcome classification', () => {
  it('When every entry succeeded, then each is sent with its MessageID as a string', () => {
    const body = {
      Messages: [{ Status: 'success', To: [{ Email: 'a@b.c', MessageID: '576460752303423500', MessageUUID: 'u' }] }],
    };
    expect(outcomesFromBody(body, 1, 200)).toEqual([
      { kind: 'sent', providerMessageId: '576460752303423500', httpStatus: 200 },
    ]);
  });

  it('When a 400 carries a mixed batch, then the good entry is sent and the bad one fails for good', () => {
    const data = {
      Messages: [
        { Status: 'success', To: [{ MessageID: '1' }] },
        {
          Status: 'error',
          Errors: [
            { ErrorCode: 'mj-0013', StatusCode: 400, ErrorMessage: 'bad email', ErrorRelatedTo: ['To[0].Email'] },
          ],
        },
      ],
    };
    const outcomes = outcomesFromError(httpError(400, { response: { data } }), 2);
    expect(outcomes[0]).toMatchObject({ kind: 'sent' });
    expect(outcomes[1]).toMatchObject({ kind: 'failed', transient: false, errorCode: 'mj-0013', httpStatus: 400 });
    expect(outcomes[1]).toHaveProperty('reason', 'mj-0013: bad email (To[0].Email)');
  });

  it('When every entry is refused for its sender (400 related to From), then a configuration error, not each email failed for good', () => {
    const refused = (field: string) => ({
      Status: 'error',
      Errors: [
        { ErrorCode: 'mj-0013', StatusCode: 400, ErrorMessage: 'not a valid email address', ErrorRelatedTo: [field] },
      ],
    });

    const [sender, name] = outcomesFromError(
      httpError(400, { response: { data: { Messages: [refused('From.Email'), refused('From.Name')] } } }),
      2,
    );
    const [recipient] = outcomesFromError(
      httpError(400, { response: { data: { Messages: [refused('To[0].Email')] } } }),
      1,
    );

    expect(sender).toMatchObject({ kind: 'failed', transient: true, configurationError: true, httpStatus: 400 });
    expect(name).toMatchObject({ kind: 'failed', transient: true, configurationError: true });
    expect(recipient).toMatchObject({ kind: 'failed', transient: false });
    expect(recipient).not.toHaveProperty('configurationError');
  });

  it('When an entry names its field as a string rather than a list, then it still becomes an outcome naming it', () => {
    const data = {
      Messages: [{ Status: 'error', Errors: [{ ErrorCode: 'mj-0013', StatusCode: 400, ErrorRelatedTo: 'To' }] }],
    };

    const [outcome] = outcomesFromError(httpError(400, { response: { data } }), 1);

    expect(outcome).toMatchObject({ kind: 'failed', transient: false, errorCode: 'mj-0013' });
    expect(outcome).toHaveProperty('reason', 'mj-0013: message refused (To)');
  });

  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [400, false],
    [413, false],
  ])('When Mailjet answers HTTP %i, then transient is %s', (status, transient) => {
    const [outcome] = outcomesFromError(httpError(status, { response: { data: '<html>busy</html>' } }), 1);
    expect(outcome).toMatchObject({ kind: 'failed', transient, httpStatus: status });
  });

  it('When Mailjet refuses our credentials (401), then every email of the call fails as a configuration error, not for good', () => {
    const data = {
      ErrorIdentifier: 'e',
      StatusCode: 401,
      ErrorMessage: 'API key authentication/authorization failure.',
    };
    const outcomes = outcomesFromError(httpError(401, { response: { data } }), 2);
    expect(outcomes).toEqual([
      {
        kind: 'failed',
        transient: true,
        configurationError: true,
        httpStatus: 401,
        errorCode: undefined,
        reason: 'HTTP 401: API key authentication/authorization failure.',
      },
      expect.objectContaining({ kind: 'failed', transient: true, configurationError: true }),
    ]);
  });

  it('When a 503 comes with an HTML page (node-mailjet hands an empty object), then the reason is the status text', () => {
    const error = httpError(503, {
      statusText: 'Service Unavailable',
      ErrorMessage: 'Unsuccessful: Status Code: "503" Message: "Request failed with status code 503"',
      response: { data: {} },
    });
    expect(outcomesFromError(error, 1)[0]).toHaveProperty('reason', 'HTTP 503: Service Unavailable');
  });

  it('When a 500 carries Mailjet JSON, then the reason is its ErrorMessage', () => {
    const error = httpError(500, {
      statusText: 'Internal Server Error',
      response: { data: { ErrorMessage: 'Internal error, retry later' } },
    });
    expect(outcomesFromError(error, 1)[0]).toHaveProperty('reason', 'HTTP 500: Internal error, retry later');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT'])(
    'When there is no HTTP answer (%s), then it is transient and names the code',
    (code) => {
      const [outcome] = outcomesFromError(httpError(null, { code, response: null }), 1);
      expect(outcome).toMatchObject({ kind: 'failed', transient: true, errorCode: code });
    },
  );

  it('When Mailjet refuses a recipient and quotes the address, then the reason carries it masked', () => {
    const data = {
      Messages: [
        {
          Status: 'error',
          Errors: [
            {
              ErrorCode: 'mj-0013',
              StatusCode: 400,
              ErrorMessage: '"alice@fail.example" is an invalid email address.',
              ErrorRelatedTo: ['To[0].Email'],
            },
          ],
        },
      ],
    };
    const [outcome] = outcomesFromError(httpError(400, { response: { data } }), 1);
    expect(outcome).toHaveProperty('reason', 'mj-0013: "a***@f***.example" is an invalid email address. (To[0].Email)');
  });

  it('When Mailjet refuses the sender (403 with an entry per message), then each is a configuration error with its code and field', () => {
    const entry = {
      Status: 'error',
      Errors: [
        {
          ErrorIdentifier: 'a7f5d0c4-8b1e-4b8e-9d1a-2f0b6e5c9a11',
          ErrorCode: 'send-0008',
          StatusCode: 403,
          ErrorMessage: '"tickets@example.com" is not an authorized sender email address for your account.',
          ErrorRelatedTo: ['From'],
        },
      ],
    };
    const error = httpError(403, { response: { data: { Messages: [entry, entry] } } });

    expect(outcomesFromError(error, 2)).toEqual(
      Array(2).fill({
        kind: 'failed',
        transient: true,
        configurationError: true,
        httpStatus: 403,
        errorCode: 'send-0008',
        reason: 'send-0008: "t***@e***.com" is not an authorized sender email address for your account. (From)',
      }),
    );
  });

  it('When a 400 holds a refused sender beside a refused address, then only the sender is a configuration error', () => {
    const refusal = (ErrorCode: string, StatusCode: number) => ({
      Status: 'error',
      Errors: [{ ErrorCode, StatusCode, ErrorMessage: 'refused', ErrorRelatedTo: [] }],
    });
    const data = { Messages: [refusal('send-0008', 403), refusal('mj-0013', 400)] };

    const [sender, address] = outcomesFromError(httpError(400, { response: { data } }), 2);

    expect(sender).toMatchObject({ transient: true, configurationError: true, httpStatus: 403 });
    expect(address).toMatchObject({ transient: false, httpStatus: 400 });
    expect(address).not.toHaveProperty('configurationError');
  });

  it('When Mailjet answers 403 with no entry per message, then a configuration error for every email', () => {
    const error = httpError(403, { response: { data: { ErrorMessage: 'account suspended' } } });

    expect(outcomesFromError(error, 2)).toEqual(
      Array(2).fill(expect.objectContaining({ transient: true, configurationError: true, httpStatus: 403 })),
    );
  });

  it('When an error answer quotes an address, then the reason carries it masked', () => {
    const error = httpError(403, { response: { data: { ErrorMessage: 'sender bob@example.com is not validated' } } });
    expect(outcomesFromError(error, 1)[0]).toHaveProperty('reason', 'HTTP 403: sender b***@e***.com is not validated');
  });

  it('When a 2xx body has no Messages (not JSON), then it is treated as transient, not as sent', () => {
    expect(outcomesFromBody({}, 1, 200)).toEqual([expect.objectContaining({ kind: 'failed', transient: true })]);
  });
});

describe('Retry-After', () => {
  it('When Mailjet answers 429 with Retry-After in seconds, then the outcome carries the pause', () => {
    const error = Object.assign(new Error('Too Many Requests'), {
      statusCode: 429,
      statusText: 'Too Many Requests',
      response: { data: 'slow down', headers: { 'retry-after': '3' } },
    });
    const [outcome] = outcomesFromError(error, 1);
    expect(outcome).toMatchObject({ kind: 'failed', transient: true, httpStatus: 429, retryAfterMs: 3_000 });
  });

  it('When Retry-After is an HTTP date or garbage, then it is read as a date or ignored', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(parseRetryAfter('Mon, 30 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
