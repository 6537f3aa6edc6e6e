import { describe, expect, it } from 'vitest';
import type { CartWithItems } from '../../src/db/cart-repository.js';
import { createCartCache } from '../../src/domain/cart-cache.js';

function cart(cartId: string, version = 0): CartWithItems {
  return {
    cart: {
      cartId,
      customerEmail: 'ada@example.com',
      customerName: 'Ada',
      currency: 'EUR',
      status: 'open',
      createdAt: new Date(0),
      version,
    },
    items: [],
  };
}

describe('Given a memory of carts bounded to two', () => {
  it('When a third cart is remembered, then the one least recently used is forgotten', () => {
    const carts = createCartCache(2);
    carts.rememberCart(cart('a'));
    carts.rememberCart(cart('b'));
    carts.cart('a');
    carts.rememberCart(cart('c'));
    expect([carts.cart('a'), carts.cart('b'), carts.cart('c')].map((found) => found?.cart.cartId)).toEqual([
      'a',
      undefined,
      'c',
    ]);
  });

  it('When a cart is remembered again or forgotten, then the memory holds its latest version or nothing', () => {
    const carts = createCartCache(2);
    carts.rememberCart(cart('a', 1));
    carts.rememberCart(cart('a', 2));
    expect(carts.cart('a')?.cart.version).toBe(2);
    carts.forgetCart('a');
    expect(carts.cart('a')).toBeUndefined();
  });
});

describe('Given the memory turned off (0 carts)', () => {
  it('When carts and ticket types are remembered, then none is given back', () => {
    const carts = createCartCache(0);
    carts.rememberCart(cart('a'));
    carts.rememberTicketType({
      ticketTypeId: 't',
      eventId: 'e',
      eventName: 'Jazz',
      name: 'Standing',
      priceMinor: 1,
      currency: 'EUR',
    });
    expect(carts.cart('a')).toBeUndefined();
    expect(carts.ticketType('t')).toBeUndefined();
  });
});
