import { randomUUID } from 'node:crypto';
import type { Money } from '@notify/shared';
import { AppError } from '@notify/shared/platform';
import { listCartItems } from '../db/cart-item-repository.js';
import { markCartCheckedOut } from '../db/cart-repository.js';
import { insertOrder } from '../db/order-repository.js';
import { toCart } from './cart.js';
import { lockOpenCart } from './load-cart.js';
import { type CommandContext, checkoutCompletedMessage, enqueueNotification } from './notifications.js';

export type CheckoutResult = {
  orderId: string;
  cartId: string;
  total: Money;
  notification: { trackingId: string };
};

export async function checkoutCart(context: CommandContext, cartId: string): Promise<CheckoutResult> {
  const locked = await lockOpenCart(context.client, cartId);
  const cart = toCart(locked, await listCartItems(context.client, cartId));
  if (cart.lines.length === 0) throw new AppError(409, 'cart_empty', `cart ${cartId} has no tickets`);

  const orderId = randomUUID();
  await insertOrder(context.client, {
    orderId,
    cartId,
    totalMinor: cart.total.amountMinor,
    currency: cart.total.currency,
  });
  await markCartCheckedOut(context.client, cartId);
  const notification = await enqueueNotification(context, checkoutCompletedMessage(cart, orderId, new Date()));
  return { orderId, cartId, total: cart.total, notification };
}
