import { MAX_AMOUNT_MINOR, MAX_SUMMARY_LINES } from '@notify/shared';
import { AppError } from '@notify/shared/platform';
import { type CartRow, type CartWithItems, findCartWithTicketType } from '../db/cart-repository.js';
import type { TicketTypeRow } from '../db/catalog-repository.js';
import {
  type Cart,
  lineLimitError,
  quantityLimitError,
  ticketTypeNotFoundError,
  toCart,
  totalLimitError,
  totalMinorOf,
  withTicketsAdded,
} from './cart.js';
import { type CartSource, requireOpenCart, retryWhileCartChanges } from './load-cart.js';
import { type CommandContext, prepareNotification, ticketAddedMessage } from './notifications.js';

export type AddTicketRequest = { ticketTypeId: string; quantity: number };
export type AddTicketResult = Cart & { notification: { trackingId: string } };

type CartWithTicketType = CartWithItems & { ticketType: TicketTypeRow | null };

/**
 * One statement when this instance remembers the cart and the ticket type (it wrote the cart
 * last), two otherwise: the cart, its lines and the ticket type read; then the line with its
 * notification, if the cart is unchanged and the ticket type's price is the one used. The cart
 * after the change is worked out here from what was read, as the write changes it, so that no
 * further statement reads it back.
 */
export async function addTicketToCart(
  context: CommandContext,
  cartId: string,
  request: AddTicketRequest,
): Promise<AddTicketResult> {
  const source = cartWithTicketType(context, cartId, request.ticketTypeId);
  return retryWhileCartChanges(cartId, source, async (read) => {
    const found = requireOpenCart(read, cartId);
    const ticketType = sellableTicketType(found.cart, found.ticketType, request.ticketTypeId);
    const items = withTicketsAdded(found.items, ticketType, request.quantity);
    if (!items) throw quantityLimitError('body.quantity');
    if (items.length > MAX_SUMMARY_LINES) throw lineLimitError('body.ticketTypeId');
    if (totalMinorOf(items) > MAX_AMOUNT_MINOR) throw totalLimitError('body.quantity');
    const updated = toCart(found.cart, items);
    const notification = prepareNotification(context, ticketAddedMessage(updated, new Date()));
    const added = await context.writes.addCartItem(
      {
        cartId,
        cartVersion: found.cart.version,
        ticketTypeId: ticketType.ticketTypeId,
        quantity: request.quantity,
        // The price is the catalog's, never the client's.
        unitPriceMinor: ticketType.priceMinor,
        currency: ticketType.currency,
      },
      notification.row,
    );
    if (!added) return undefined;
    context.afterCommit(() =>
      context.carts.rememberCart({ cart: { ...found.cart, version: found.cart.version + 1 }, items }),
    );
    return { ...updated, notification: { trackingId: notification.trackingId } };
  });
}

function cartWithTicketType(
  { client, carts }: Pick<CommandContext, 'client' | 'carts'>,
  cartId: string,
  ticketTypeId: string,
): CartSource<CartWithTicketType> {
  return {
    remembered: () => {
      const cart = carts.cart(cartId);
      const ticketType = cart && carts.ticketType(ticketTypeId);
      return cart && ticketType ? { ...cart, ticketType } : undefined;
    },
    read: async () => {
      const found = await findCartWithTicketType(client, cartId, ticketTypeId);
      if (found?.ticketType) carts.rememberTicketType(found.ticketType);
      return found;
    },
    forget: () => {
      carts.forgetCart(cartId);
      carts.forgetTicketType(ticketTypeId);
    },
    count: carts.count,
  };
}

function sellableTicketType(cart: CartRow, ticketType: TicketTypeRow | null, ticketTypeId: string): TicketTypeRow {
  if (!ticketType) throw ticketTypeNotFoundError(ticketTypeId, 'body.ticketTypeId');
  if (ticketType.currency !== cart.currency) {
    throw new AppError(409, 'currency_mismatch', `cart is in ${cart.currency}, ticket type in ${ticketType.currency}`, [
      { field: 'body.ticketTypeId', message: `is priced in ${ticketType.currency}, the cart in ${cart.currency}` },
    ]);
  }
  return ticketType;
}
