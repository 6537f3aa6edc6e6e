import { randomUUID } from 'node:crypto';
import { encodeNotification, type NotificationMessageInput } from '@notify/shared';
import type { PoolClient } from 'pg';
import { insertOutboxMessage } from '../db/outbox-repository.js';
import { type Cart, summaryLines } from './cart.js';

/** Where this instance addresses its messages; stored on each outbox row. */
export type OutboxTarget = { exchange: string; appId: string };

/** What a use case gets: the open transaction, and where its notifications go. */
export type CommandContext = { client: PoolClient; outbox: OutboxTarget };

export function ticketAddedMessage(cart: Cart, occurredAt: Date): NotificationMessageInput {
  return {
    schemaVersion: 1,
    trackingId: randomUUID(),
    operation: 'ticket.added_to_checkout',
    occurredAt: occurredAt.toISOString(),
    recipient: cart.customer,
    content: { cartId: cart.cartId, total: cart.total, lines: summaryLines(cart) },
  };
}

export function checkoutCompletedMessage(cart: Cart, orderId: string, occurredAt: Date): NotificationMessageInput {
  return {
    schemaVersion: 1,
    trackingId: randomUUID(),
    operation: 'checkout.completed',
    occurredAt: occurredAt.toISOString(),
    recipient: cart.customer,
    content: { cartId: cart.cartId, orderId, total: cart.total, lines: summaryLines(cart) },
  };
}

/**
 * Validates and encodes the message, and writes it to the outbox in the caller's transaction:
 * the notification exists if and only if the change it reports was committed.
 */
export async function enqueueNotification(
  { client, outbox }: CommandContext,
  message: NotificationMessageInput,
): Promise<{ trackingId: string }> {
  const encoded = encodeNotification(message, outbox.appId);
  await insertOutboxMessage(client, outbox.exchange, encoded);
  return { trackingId: encoded.properties.messageId };
}
