import { createHash } from 'node:crypto';
import { AppError } from '@notify/shared/platform';
import type { Request } from 'express';
import type { IdempotencyRequest } from '../domain/run-command.js';

const HEADER = 'idempotency-key';
// Visible ASCII: keys are compared byte for byte and show up in logs.
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The optional `Idempotency-Key` of a POST, with the fingerprint of the request it came with. */
export function idempotencyOf(req: Request): IdempotencyRequest | undefined {
  const key = req.get(HEADER);
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new AppError(400, 'validation_failed', `invalid headers: headers.${HEADER}`, [
      { field: `headers.${HEADER}`, message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  return { key, fingerprint: fingerprintOf(req.method, req.baseUrl + req.path, req.body) };
}

/**
 * The same key may only come back with the same request: the same method, the same path as routing
 * reads it (case and a trailing slash aside; the query string is not part of a command), and the
 * same JSON body, whatever the order of its keys. JSON.parse takes any depth that fits the size
 * limit, but JSON.stringify recurses: a body nested some thousands deep (which no schema of ours
 * accepts) overflows the stack, and is the client's mistake.
 */
export function fingerprintOf(method: string, path: string, body: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(body ?? null, sortKeys);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new AppError(400, 'validation_failed', 'invalid body: body', [
      { field: 'body', message: 'is nested too deeply' },
    ]);
  }
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${routedPath(path)}\n${text}`)
    .digest('hex');
}

// Express routes ignore case and a trailing slash; our paths' only variable parts are UUIDs.
function routedPath(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
