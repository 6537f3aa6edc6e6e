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

  it('When the body has its keys in another order, at any depth, then the fingerprint is the same', () => {
    const cart = { customer: { email: 'ada@example.com', name: 'Ada' }, tickets: [{ ticketTypeId: 't', quantity: 1 }] };
    const reordered = {
      tickets: [{ quantity: 1, ticketTypeId: 't' }],
      customer: { name: 'Ada', email: 'ada@example.com' },
    };

    expect(fingerprintOf('POST', '/carts', reordered)).toBe(fingerprintOf('POST', '/carts', cart));
  });

  it('When arrays hold the same items in another order, then the fingerprint differs', () => {
    expect(fingerprintOf('POST', '/carts', { tickets: [1, 2] })).not.toBe(
      fingerprintOf('POST', '/carts', { tickets: [2, 1] }),
    );
  });

  it('When the path differs only as routing ignores (case, a trailing slash), then the fingerprint is the same', () => {
    const original = fingerprintOf('POST', '/carts/ab-1/tickets', body);

    expect(fingerprintOf('POST', '/Carts/AB-1/tickets/', body)).toBe(original);
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
