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
  return { key, fingerprint: fingerprintOf(req.method, req.originalUrl, req.body) };
}

/** The same key may only come back with the same method, path and body. */
export function fingerprintOf(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}
