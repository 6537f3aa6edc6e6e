import { scrubAddresses } from './scrub-addresses.js';

/**
 * What a log line may not carry, enforced on every line and every child logger's bindings: values
 * under a secret's name, at any depth, become '[redacted]'; a password inside any URL becomes ***;
 * an Error, logged or nested in a logged object, is reduced to its safe fields (some clients' errors
 * carry their request config, credentials included), with any address in its message masked.
 *
 * Not pino's `redact`: its paths name fixed places (`*.password` is one level down, and misses a
 * `password` at the top or two levels down), while a secret reaches a log exactly where nobody
 * expected one; and each of its wildcard paths cost about 1 µs a line.
 */

export const REDACTED = '[redacted]';
const TOO_DEEP = '[redacted: nested too deep]';
/** Log objects are shallow; past this, nothing is read (and a cycle ends here). */
const MAX_DEPTH = 8;

/** Key names, lowercased with everything but letters and digits taken out. */
const SECRET_NAMES = new Set([
  'password',
  'passwd',
  'secret',
  'authorization',
  'proxyauthorization',
  'credentials',
  'passphrase',
  'cookie',
  'setcookie',
  'databaseurl',
  'amqpurl',
  'amqpurls',
  'connectionstring',
  'privatekey',
]);
const SECRET_ENDINGS = ['password', 'secret', 'secretkey', 'apikey', 'token'];

const secretByKey = new Map<string, boolean>();

/** Whether a value under this name is a secret (`apiKey`, `access_token`, `DATABASE_URL`...). */
export function isSecretKey(key: string): boolean {
  let secret = secretByKey.get(key);
  if (secret === undefined) {
    const name = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    secret = SECRET_NAMES.has(name) || SECRET_ENDINGS.some((ending) => name.endsWith(ending));
    // Log lines use a few dozen keys; a bound keeps odd ones (ids as keys) from growing it.
    if (secretByKey.size < 10_000) secretByKey.set(key, secret);
  }
  return secret;
}

/**
 * `user:password@` in any URL becomes `user:***@` (the user may be empty), and a password given as
 * a query parameter, as libpq and pg take it (`?password=`), becomes `password=***`. A setting's
 * URL may hold a password with a space or an `@` that was never percent-encoded, and the clients
 * still take it: a whole URL is read as a URL, so that nothing after the first space or `@` is
 * left in clear. In free text a password ends at the last `@` before a space or a slash.
 */
export function redactUrl(text: string): string {
  const whole = text.includes('@') ? redactWholeUrl(text) : undefined;
  return (whole ?? text)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^/\s]*@/gi, '$1:***@')
    .replace(/([?&](?:password|passwd|pwd)=)[^&#\s]*/gi, '$1***');
}

function redactWholeUrl(text: string): string | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  if (!url.password) return undefined;
  url.password = '***';
  return url.href;
}

type ErrorLike = Error & { code?: unknown; statusCode?: unknown; cause?: unknown };

/**
 * Copies only known-safe fields. pino's standard serializer copies every enumerable property, and
 * some clients' errors carry their request config, credentials included (node-mailjet's `config`).
 * A message may quote an address (a value the database refused, a provider's answer): it is masked
 * there and in the stack's head, which repeats the message. The frames are left as they are: a path
 * such as `node_modules/@notify/shared` has the shape of an address, and is what the stack is read
 * for. A database error's `detail` (a constraint's key and its value) is not copied at all.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: redactErrorText(String(error)) };
  const { code, statusCode, cause } = error as ErrorLike;
  return {
    type: error.name,
    message: redactErrorText(error.message),
    stack: error.stack ? redactStack(error.stack) : undefined,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(cause instanceof Error ? { cause: serializeError(cause) } : {}),
  };
}

/** An error's message as a line may carry it: no password in a URL, no address in clear. */
export function redactErrorText(text: string): string {
  return maskAddresses(redactUrl(text));
}

// The stack's head (`Error: <message>`, over several lines if the message has them) ends where
// its first frame starts.
const FIRST_FRAME = /\n\s+at /;

function redactStack(stack: string): string {
  const redacted = redactUrl(stack);
  if (!redacted.includes('@')) return redacted;
  const frames = FIRST_FRAME.exec(redacted);
  if (!frames) return maskAddresses(redacted);
  return maskAddresses(redacted.slice(0, frames.index)) + redacted.slice(frames.index);
}

// A URL's user (`amqp://svc:***@rabbit:5672`) names an account, and the host after it is what an
// operator reads a connection error for: both stay. Only when no second at sign follows before the
// URL goes on or ends, which it would if the user itself were an address (`smtp://ada@example.com:pw@host`).
const URL_USER = /[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]*@(?=[^\s@]*(?:[\s/?#]|$))/gi;

function maskAddresses(text: string): string {
  if (!text.includes('@')) return text;
  let masked = '';
  let from = 0;
  for (const url of text.matchAll(URL_USER)) {
    masked += scrubAddresses(text.slice(from, url.index)) + url[0];
    from = url.index + url[0].length;
  }
  return masked + scrubAddresses(text.slice(from));
}

/**
 * A log line's object (or a child logger's bindings) without secrets. The object itself when there
 * is nothing to take out, a copy otherwise: the caller's object is never changed. `err` at the top
 * is left to the logger's error serializer.
 */
export function redactSecrets(object: Record<string, unknown>): Record<string, unknown> {
  return redactFields(object, 0);
}

function redactFields(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const value = object[key];
    if (value === undefined || (depth === 0 && key === 'err')) continue;
    const safe = isSecretKey(key) ? REDACTED : redactValue(value, depth + 1);
    if (safe !== value) {
      copy ??= { ...object };
      copy[key] = safe;
    }
  }
  return copy ?? object;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.includes('://') ? redactUrl(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  if (value instanceof Error) return serializeError(value);
  if (Buffer.isBuffer(value)) return value;
  // What JSON.stringify would write: a URL object writes its href, password and all.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return redactValue(toJSON.call(value), depth + 1);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, index) => {
      const safe = redactValue(item, depth + 1);
      if (safe !== item) {
        copy ??= [...value];
        copy[index] = safe;
      }
    });
    return copy ?? value;
  }
  return redactFields(value as Record<string, unknown>, depth);
}
