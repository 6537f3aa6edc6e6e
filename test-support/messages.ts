import { randomUUID } from 'node:crypto';
import type { NotificationMessage, Operation } from '@notify/shared';

/** A valid message of either operation, unique per call; tests override what they check. */
export function buildMessage(operation: Operation = 'checkout.completed'): NotificationMessage {
  const common = {
    schemaVersion: 1 as const,
    trackingId: randomUUID(),
    occurredAt: new Date().toISOString(),
    recipient: { email: `buyer-${randomUUID().slice(0, 8)}@example.com`, name: 'Ada Lovelace' },
  };
  const content = {
    cartId: randomUUID(),
    total: { amountMinor: 9_000, currency: 'EUR' },
    lines: [
      {
        eventName: 'Spring Jazz Night',
        ticketType: 'Standing',
        quantity: 2,
        unitPrice: { amountMinor: 4_500, currency: 'EUR' },
      },
    ],
  };
  return operation === 'checkout.completed'
    ? { ...common, operation, content: { ...content, orderId: randomUUID() } }
    : { ...common, operation, content };
}
