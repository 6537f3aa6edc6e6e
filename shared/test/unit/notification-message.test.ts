import { NotificationMessageSchema } from '@notify/shared';
import { describe, expect, it } from 'vitest';
import { buildMessage } from '../../../test-support/messages.js';

function failingPaths(candidate: unknown): string[] {
  const result = NotificationMessageSchema.safeParse(candidate);
  if (result.success) return [];
  return result.error.issues.map((issue) => issue.path.join('.'));
}

describe('notification message v1 schema', () => {
  it.each(['ticket.added_to_checkout', 'checkout.completed'] as const)(
    'When a valid %s message is parsed, then it is accepted unchanged',
    (operation) => {
      const message = buildMessage(operation);
      expect(NotificationMessageSchema.parse(message)).toEqual(message);
    },
  );

  const cases: Array<[string, (m: Record<string, any>) => void, string]> = [
    ['trackingId is missing', (m) => delete m.trackingId, 'trackingId'],
    ['trackingId is not a UUID', (m) => (m.trackingId = 'order-42'), 'trackingId'],
    ['the operation is unknown', (m) => (m.operation = 'ticket.refunded'), 'operation'],
    ['the email is invalid', (m) => (m.recipient.email = 'ada@'), 'recipient.email'],
    ['the name carries a CR/LF', (m) => (m.recipient.name = 'Ada\r\nBcc: victim@example.com'), 'recipient.name'],
    ['the name carries a bare LF', (m) => (m.recipient.name = 'Ada\nLovelace'), 'recipient.name'],
    ['the total is negative', (m) => (m.content.total.amountMinor = -1), 'content.total.amountMinor'],
    ['the total is fractional', (m) => (m.content.total.amountMinor = 12.5), 'content.total.amountMinor'],
    [
      'a line price is fractional',
      (m) => (m.content.lines[0].unitPrice.amountMinor = 0.1),
      'content.lines.0.unitPrice.amountMinor',
    ],
    ['the name is over-long', (m) => (m.recipient.name = 'a'.repeat(201)), 'recipient.name'],
    [
      'the event name is over-long',
      (m) => (m.content.lines[0].eventName = 'e'.repeat(201)),
      'content.lines.0.eventName',
    ],
    ['the email is over-long', (m) => (m.recipient.email = `${'a'.repeat(250)}@example.com`), 'recipient.email'],
    ['the schemaVersion is unknown', (m) => (m.schemaVersion = 2), 'schemaVersion'],
    ['the currency is not ISO 4217', (m) => (m.content.total.currency = 'euro'), 'content.total.currency'],
    ['a completed checkout has no orderId', (m) => delete m.content.orderId, 'content.orderId'],
  ];

  it.each(cases)('When %s, then it is rejected naming that field', (_title, spoil, path) => {
    const message = structuredClone(buildMessage('checkout.completed')) as Record<string, any>;
    spoil(message);
    expect(failingPaths(message)).toContain(path);
  });
});
