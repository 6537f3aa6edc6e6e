import { type NotificationMessage, OPERATION_LABELS } from '@notify/shared';
import type { Address, Email } from './email-provider.js';
import { formatMoney } from './money.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/** The email for one notification: the same facts as text and as HTML, user data escaped in HTML. */
export function buildEmail(message: NotificationMessage, from: Address): Email {
  const label = OPERATION_LABELS[message.operation];
  const { content, recipient } = message;
  const reference =
    message.operation === 'checkout.completed' ? `Order ${message.content.orderId}` : `Cart ${content.cartId}`;
  const lines = content.lines.map((line) => {
    const price = formatMoney(line.unitPrice);
    return {
      text: `${line.quantity} × ${line.ticketType}, ${line.eventName}: ${price} each`,
      html: `<tr><td>${escapeHtml(line.eventName)}</td><td>${escapeHtml(line.ticketType)}</td><td>${line.quantity}</td><td>${escapeHtml(price)}</td></tr>`,
    };
  });
  const total = formatMoney(content.total);
  return {
    customId: message.trackingId,
    from,
    to: recipient,
    subject: `${label}: ${reference}`,
    text: [
      `Hello ${recipient.name},`,
      '',
      `${label}.`,
      reference,
      '',
      ...lines.map((line) => line.text),
      '',
      `Total: ${total}`,
    ].join('\n'),
    html: [
      `<p>Hello ${escapeHtml(recipient.name)},</p>`,
      `<p><strong>${escapeHtml(label)}.</strong><br>${escapeHtml(reference)}</p>`,
      '<table><thead><tr><th>Event</th><th>Ticket</th><th>Quantity</th><th>Price</th></tr></thead>',
      `<tbody>${lines.map((line) => line.html).join('')}</tbody></table>`,
      `<p>Total: <strong>${escapeHtml(total)}</strong></p>`,
    ].join('\n'),
  };
}
