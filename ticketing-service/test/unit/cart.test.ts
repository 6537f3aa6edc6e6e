import { describe, expect, it } from 'vitest';
import type { CartItemRow } from '../../src/db/cart-item-repository.js';
import type { CartRow } from '../../src/db/cart-repository.js';
import type { TicketTypeRow } from '../../src/db/catalog-repository.js';
import { MAX_LINE_QUANTITY, summaryLines, toCart, withTicketsAdded } from '../../src/domain/cart.js';

const row: CartRow = {
  cartId: '5b1f8a52-7c1e-4a8e-9a55-0d6f0f3f6a01',
  customerEmail: 'ada@example.com',
  customerName: 'Ada Lovelace',
  currency: 'EUR',
  status: 'open',
  createdAt: new Date('2026-11-27T10:00:00Z'),
  version: 0,
};

const item = (ticketTypeName: string, quantity: number, unitPriceMinor: number): CartItemRow => ({
  ticketTypeId: `a1000000-0000-4000-8000-00000000000${quantity}`,
  eventName: 'Spring Jazz Night',
  ticketTypeName,
  quantity,
  unitPriceMinor,
  currency: 'EUR',
});

describe('toCart', () => {
  it('When a cart has no items, then its total is zero in its currency', () => {
    expect(toCart(row, [])).toEqual({
      cartId: row.cartId,
      customer: { email: 'ada@example.com', name: 'Ada Lovelace' },
      status: 'open',
      lines: [],
      total: { amountMinor: 0, currency: 'EUR' },
    });
  });

  it('When a cart has items, then each line and the total are integer minor units', () => {
    const cart = toCart(row, [item('Standing', 3, 4500), item('Balcony seat', 1, 6599)]);

    expect(cart.lines.map((line) => line.lineTotal)).toEqual([
      { amountMinor: 13_500, currency: 'EUR' },
      { amountMinor: 6599, currency: 'EUR' },
    ]);
    expect(cart.total).toEqual({ amountMinor: 20_099, currency: 'EUR' });
  });
});

describe('summaryLines', () => {
  it('When a cart is summarised for a message, then each line keeps event, type, quantity and unit price', () => {
    const cart = toCart(row, [item('Standing', 2, 4500)]);

    expect(summaryLines(cart)).toEqual([
      {
        eventName: 'Spring Jazz Night',
        ticketType: 'Standing',
        quantity: 2,
        unitPrice: { amountMinor: 4500, currency: 'EUR' },
      },
    ]);
  });
});

describe('withTicketsAdded', () => {
  const standing = item('Standing', 2, 4500);
  const seated = item('Seated', 1, 6500);
  const ticketType = (line: CartItemRow, priceMinor: number): TicketTypeRow => ({
    ticketTypeId: line.ticketTypeId,
    eventId: 'e1000000-0000-4000-8000-000000000001',
    eventName: line.eventName,
    name: line.ticketTypeName,
    priceMinor,
    currency: 'EUR',
  });

  it('When the type is already in the cart, then its line keeps its place, adds the quantity and takes the current price', () => {
    expect(withTicketsAdded([standing, seated], ticketType(standing, 5000), 3)).toEqual([
      { ...standing, quantity: 5, unitPriceMinor: 5000 },
      seated,
    ]);
  });

  it('When the type is new to the cart, then its line comes last with the catalog price', () => {
    const newType = { ...ticketType(seated, 7000), ticketTypeId: 'a1000000-0000-4000-8000-0000000000ff' };
    expect(withTicketsAdded([standing], newType, 4)).toEqual([
      standing,
      {
        ticketTypeId: newType.ticketTypeId,
        eventName: newType.eventName,
        ticketTypeName: newType.name,
        quantity: 4,
        unitPriceMinor: 7000,
        currency: 'EUR',
      },
    ]);
  });

  it('When the line would go over the limit, then there is no result; at the limit there is one', () => {
    expect(withTicketsAdded([standing], ticketType(standing, 4500), MAX_LINE_QUANTITY - 1)).toBeUndefined();
    expect(withTicketsAdded([standing], ticketType(standing, 4500), MAX_LINE_QUANTITY - 2)?.[0]?.quantity).toBe(
      MAX_LINE_QUANTITY,
    );
  });
});
