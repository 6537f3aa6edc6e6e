import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets, redactUrl, serializeError } from '../../src/platform/log-redaction.js';

describe('redactSecrets', () => {
  it('When a secret is named at the top, two levels down or in an array, then its value is [redacted]', () => {
    const line = {
      password: 'hunter2',
      settings: { database: { DATABASE_URL: 'postgres://app:pw@db/app' } },
      providers: [{ name: 'mailjet', apiSecret: 's3cret' }],
    };
    expect(redactSecrets(line)).toEqual({
      password: REDACTED,
      settings: { database: { DATABASE_URL: REDACTED } },
      providers: [{ name: 'mailjet', apiSecret: REDACTED }],
    });
  });

  it('When names are spelled in another case or style, then they are secrets all the same', () => {
    const names = [
      'MAILJET_API_KEY',
      'mailjetApiSecret',
      'sendgrid-api-key',
      'operatorToken',
      'Authorization',
      'set-cookie',
      'amqpUrl',
      'Proxy-Authorization',
      'awsSecretKey',
      'credentials',
      'passphrase',
    ];
    const redacted = redactSecrets(Object.fromEntries(names.map((name) => [name, 'x'])));
    expect(Object.values(redacted)).toEqual(names.map(() => REDACTED));
  });

  it('When fields only look alike, then they stay: ids, urls and counts are what a line is for', () => {
    const line = { trackingId: 't-1', req: { url: '/carts/1', method: 'POST' }, tokensLeft: 3, keyCount: 2, passes: 1 };
    expect(redactSecrets(line)).toBe(line);
  });

  it('When a URL with a password is anywhere in a value, or a URL object is logged, then the password becomes ***', () => {
    const line = {
      reason: 'connect ECONNREFUSED amqp://guest:guest@127.0.0.1:5672',
      target: new URL('postgres://app:pw@db:5432/app'),
    };
    expect(redactSecrets(line)).toEqual({
      reason: 'connect ECONNREFUSED amqp://guest:***@127.0.0.1:5672',
      target: 'postgres://app:***@db:5432/app',
    });
  });

  it('When a URL has a password but no user, or carries it as a query parameter, then the password becomes *** too', () => {
    expect(redactUrl('amqp://:hunter2@rabbit:5672')).toBe('amqp://:***@rabbit:5672');
    expect(redactUrl('postgres://app@db/app?sslmode=require&password=hunter2&x=1')).toBe(
      'postgres://app@db/app?sslmode=require&password=***&x=1',
    );
    expect(redactUrl('postgres://db/app?PASSWORD=hunter2')).toBe('postgres://db/app?PASSWORD=***');
    expect(redactUrl('http://sandbox:4010/v3.1/send?limit=5')).toBe('http://sandbox:4010/v3.1/send?limit=5');
  });

  it('When a password holds a space or an @ that was never percent-encoded, then none of it is left in clear', () => {
    expect(redactUrl('amqp://app:pa ss@rabbit:5672')).toBe('amqp://app:***@rabbit:5672');
    expect(redactUrl('amqp://app:s3cr@tPass@rabbit:5672/vhost')).toBe('amqp://app:***@rabbit:5672/vhost');
    expect(redactSecrets({ brokers: 'postgres://app:p@ss w0rd@db:5432/app' })).toEqual({
      brokers: 'postgres://app:***@db:5432/app',
    });
    expect(redactUrl('connect ECONNREFUSED amqp://app:s3cr@tPass@rabbit:5672, retrying')).toBe(
      'connect ECONNREFUSED amqp://app:***@rabbit:5672, retrying',
    );
  });

  it('When an Error is nested in a logged object, then only its safe fields are written, not what a client hung on it', () => {
    const error = Object.assign(new Error('Request failed with status code 401'), {
      statusCode: 401,
      config: { auth: { username: 'key', password: 'secret' } },
    });
    const safe = redactSecrets({ result: { error } }) as { result: { error: Record<string, unknown> } };
    expect(safe.result.error).toMatchObject({
      type: 'Error',
      message: 'Request failed with status code 401',
      statusCode: 401,
    });
    expect(JSON.stringify(safe)).not.toContain('secret');
  });

  it('When `err` is at the top, then it is left to the error serializer', () => {
    const err = new Error('boom');
    expect(redactSecrets({ err }).err).toBe(err);
  });

  it('When something is redacted, then the caller’s object is unchanged', () => {
    const settings = { user: 'app', password: 'pw' };
    const line = { settings };
    redactSecrets(line);
    expect(line).toEqual({ settings: { user: 'app', password: 'pw' } });
  });

  it('When an object refers to itself, then the walk stops, and nothing past its depth is written', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const text = JSON.stringify(redactSecrets({ loop }));
    expect(text).toContain('nested too deep');
  });
});

describe('serializeError', () => {
  const frames = [
    '    at send (file:///app/node_modules/@notify/shared/dist/platform/database.js:10:5)',
    '    at async handle (/home/ci/node_modules/@sendgrid/client/src/classes/client.js:2:1)',
  ].join('\n');

  it('When the message quotes addresses, then they are masked in the message and the stack head, and the frames keep their paths', () => {
    const message = 'recipient ada@example.com refused\nsender bob@example.org unknown';
    const error = Object.assign(new Error(message), { stack: `Error: ${message}\n${frames}` });

    const masked = 'recipient a***@e***.com refused\nsender b***@e***.org unknown';
    expect(serializeError(error)).toMatchObject({ message: masked, stack: `Error: ${masked}\n${frames}` });
  });

  it('When the address is in a cause, in a nested error or in a thrown string, then it is masked there too', () => {
    const error = new Error('send failed', { cause: new Error('ada@example.com: mailbox full') });

    expect(serializeError(error)).toMatchObject({ cause: { message: 'a***@e***.com: mailbox full' } });
    expect(redactSecrets({ result: { error } })).toMatchObject({
      result: { error: { cause: { message: 'a***@e***.com: mailbox full' } } },
    });
    expect(serializeError('ada@example.com')).toEqual({ message: 'a***@e***.com' });
  });

  it('When the message holds a URL with a user, then the user and host stay, and only its password is hidden', () => {
    expect(serializeError(new Error('connect failed to amqp://svc:hunter2@rabbit:5672/')).message).toBe(
      'connect failed to amqp://svc:***@rabbit:5672/',
    );
    expect(serializeError(new Error('connecting to postgres://root@db/app')).message).toBe(
      'connecting to postgres://root@db/app',
    );
  });

  it('When a URL’s user is itself an address, then it is masked all the same', () => {
    const { message } = serializeError(new Error('login refused at smtp://ada@example.com:pw@mail.example.net/'));

    expect(message).not.toContain('ada@');
  });

  it('When the stack has no frames, then the whole of it is masked', () => {
    const error = Object.assign(new Error('for ada@example.com'), { stack: 'Error: for ada@example.com' });

    expect(serializeError(error).stack).toBe('Error: for a***@e***.com');
  });
});
