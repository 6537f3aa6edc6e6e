import { describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/http/idempotency-key.js';

describe('fingerprintOf', () => {
  const body = { ticketTypeId: 'a1000000-0000-4000-8000-000000000001', quantity: 2 };

  it('When method, path and body are the same, then the fingerprint is the same', () => {
    expect(fingerprintOf('POST', '/carts/1/tickets', body)).toBe(
      fingerprintOf('post', '/carts/1/tickets', { ...body }),
    );
  });

  it('When the body, path or method differ, then the fingerprint differs', () => {
    const original = fingerprintOf('POST', '/carts/1/tickets', body);

    expect(fingerprintOf('POST', '/carts/1/tickets', { ...body, quantity: 3 })).not.toBe(original);
    expect(fingerprintOf('POST', '/carts/2/tickets', body)).not.toBe(original);
    expect(fingerprintOf('PUT', '/carts/1/tickets', body)).not.toBe(original);
  });

  it('When there is no body, then it still has a fingerprint, distinct from an empty object', () => {
    expect(fingerprintOf('POST', '/carts/1/checkout', undefined)).not.toBe(
      fingerprintOf('POST', '/carts/1/checkout', {}),
    );
  });

  it('When the body is nested deeper than the stack allows, then it is a 400 naming the body, not a crash', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);

    expect(() => fingerprintOf('POST', '/carts/1/checkout', deep)).toThrow(
      expect.objectContaining({ status: 400, details: [{ field: 'body', message: 'is nested too deeply' }] }),
    );
  });
});
