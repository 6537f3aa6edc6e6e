import { encodeNotification, type NotificationMessageInput } from '@notify/shared';
import { formatTraceparent, type TraceContext } from '@notify/shared/platform';
import type { OutboxInsert } from '../db/outbox-repository.js';
import type { Db } from '../db/queryable.js';
import { type Cart, summaryLines } from './cart.js';
import type { CartCache } from './cart-cache.js';
import type { CartWrites } from './cart-writes.js';
import { newId } from './new-id.js';

/** Where this instance addresses its messages; stored on each outbox row. */
export type OutboxTarget = { exchange: string; appId: string };

/**
 * What a use case gets: where it reads and how it writes (both in one transaction when the request
 * has an Idempotency-Key; otherwise reads from the pool and writes gathered with concurrent
 * commands'), where its notifications go, the request's trace, and the carts this instance remembers.
 */
export type CommandContext = {
  client: Db;
  writes: CartWrites;
  outbox: OutboxTarget;
  trace: TraceContext;
  carts: CartCache;
  /** Runs `effect` once the command's writes are committed, and never if they are not. */
  afterCommit: (effect: () => void) => void;
};

export function ticketAddedMessage(cart: Cart, occurredAt: Date): NotificationMessageInput {
  return {
    schemaVersion: 1,
    trackingId: newId(),
    operation: 'ticket.added_to_checkout',
    occurredAt: occurredAt.toISOString(),
    recipient: cart.customer,
    content: { cartId: cart.cartId, total: cart.total, lines: summaryLines(cart) },
  };
}

export function checkoutCompletedMessage(cart: Cart, orderId: string, occurredAt: Date): NotificationMessageInput {
  return {
    schemaVersion: 1,
    trackingId: newId(),
    operation: 'checkout.completed',
    occurredAt: occurredAt.toISOString(),
    recipient: cart.customer,
    content: { cartId: cart.cartId, orderId, total: cart.total, lines: summaryLines(cart) },
  };
}

/**
 * Validates and encodes the message for the outbox. The caller writes it in the same statement as
 * the change it reports: the notification exists if and only if that change was committed. The
 * request's trace context goes into the message's headers, so that the consumer continues the trace.
 */
export function prepareNotification(
  { outbox, trace }: CommandContext,
  message: NotificationMessageInput,
): { row: OutboxInsert; trackingId: string } {
  const encoded = encodeNotification(message, outbox.appId, { traceparent: formatTraceparent(trace) });
  return {
    row: { exchange: outbox.exchange, encoded, traceId: trace.traceId },
    trackingId: encoded.properties.messageId,
  };
}
