import type { Money } from '@notify/shared';
import { AppError } from '@notify/shared/platform';
import { findCartWithItems } from '../db/cart-repository.js';
import { toCart } from './cart.js';
import { requireOpenCart, retryWhileCartChanges } from './load-cart.js';
import { newId } from './new-id.js';
import { type CommandContext, checkoutCompletedMessage, prepareNotification } from './notifications.js';

export type CheckoutResult = {
  orderId: string;
  cartId: string;
  total: Money;
  notification: { trackingId: string };
};

/**
 * One statement when this instance remembers the cart, two otherwise: the cart read, then the order
 * with its notification if the cart is unchanged.
 */
export async function checkoutCart(context: CommandContext, cartId: string): Promise<CheckoutResult> {
  const { client, carts } = context;
  const source = {
    remembered: () => carts.cart(cartId),
    read: () => findCartWithItems(client, cartId),
    forget: () => carts.forgetCart(cartId),
    count: carts.count,
  };
  return retryWhileCartChanges(cartId, source, async (read) => {
    const found = requireOpenCart(read, cartId);
    const cart = toCart(found.cart, found.items);
    if (cart.lines.length === 0) throw new AppError(409, 'cart_empty', `cart ${cartId} has no tickets`);

    const orderId = newId();
    const notification = prepareNotification(context, checkoutCompletedMessage(cart, orderId, new Date()));
    const placed = await context.writes.placeOrder(
      {
        orderId,
        cartId,
        cartVersion: found.cart.version,
        totalMinor: cart.total.amountMinor,
        currency: cart.total.currency,
      },
      notification.row,
    );
    if (!placed) return undefined;
    // A checked-out cart takes no more commands: nothing to remember it for.
    carts.forgetCart(cartId);
    return { orderId, cartId, total: cart.total, notification: { trackingId: notification.trackingId } };
  });
}
