import { buildMessage } from '@notify/test-support/messages.js';
import { describe, expect, it } from 'vitest';
import { buildEmail } from '../../src/domain/email-template.js';
import { formatMoney } from '../../src/domain/money.js';

const from = { email: 'tickets@example.com', name: 'Ticketing' };

describe('email template', () => {
  it('When a checkout completes, then the email names the order, the lines and the total in both parts', () => {
    const message = buildMessage('checkout.completed');
    if (message.operation !== 'checkout.completed') throw new Error('fixture');

    const email = buildEmail(message, from);

    expect(email.customId).toBe(message.trackingId);
    expect(email.to).toEqual(message.recipient);
    expect(email.subject).toBe(`Ticket successfully checked out: Order ${message.content.orderId}`);
    for (const part of [email.text, email.html]) {
      expect(part).toContain('Spring Jazz Night');
      expect(part).toContain('€45.00');
      expect(part).toContain('€90.00');
    }
  });

  it('When a ticket is added, then the subject says so and names the cart', () => {
    const message = buildMessage('ticket.added_to_checkout');
    expect(buildEmail(message, from).subject).toBe(`Ticket added to checkout: Cart ${message.content.cartId}`);
  });

  it('When user data carries HTML, then the HTML part escapes it and the text part keeps it', () => {
    const message = buildMessage('ticket.added_to_checkout');
    message.recipient.name = '<script>alert("x")</script>';
    message.content.lines[0]!.eventName = 'Tom & Jerry <live>';

    const email = buildEmail(message, from);

    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(email.html).toContain('Tom &amp; Jerry &lt;live&gt;');
    expect(email.text).toContain('<script>alert("x")</script>');
  });

  it.each([
    [{ amountMinor: 9_000, currency: 'EUR' }, '€90.00'],
    [{ amountMinor: 5, currency: 'USD' }, 'US$0.05'],
    [{ amountMinor: 1_500, currency: 'JPY' }, 'JP¥1,500'],
    [{ amountMinor: 1_234, currency: 'KWD' }, 'KWD 1.234'],
    // ISO 4217 gives these two and three minor units; CLDR, which Intl's defaults follow, shows none.
    [{ amountMinor: 12_345, currency: 'HUF' }, 'HUF 123.45'],
    [{ amountMinor: 12_345, currency: 'IQD' }, 'IQD 12.345'],
    [{ amountMinor: 250_000, currency: 'IDR' }, 'IDR 2,500.00'],
  ])('When %j is formatted, then the currency decides the minor units: %s', (money, expected) => {
    expect(formatMoney(money).replace(/\u00a0/g, ' ')).toBe(expected);
  });
});
