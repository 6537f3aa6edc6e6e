import { AppError } from '@notify/shared/platform';
import { addCartItemWithNotification } from '../db/cart-item-repository.js';
import { type CartRow, findCartWithTicketType } from '../db/cart-repository.js';
import type { TicketTypeRow } from '../db/catalog-repository.js';
import { type Cart, MAX_LINE_QUANTITY, toCart, withTicketsAdded } from './cart.js';
import { requireOpenCart, retryWhileCartChanges } from './load-cart.js';
import { type CommandContext, prepareNotification, ticketAddedMessage } from './notifications.js';

export type AddTicketRequest = { ticketTypeId: string; quantity: number };
export type AddTicketResult = Cart & { notification: { trackingId: string } };

/**
 * Two statements: the cart, its lines and the ticket type read; then the line with its
 * notification, if the cart is unchanged. The cart after the change is worked out here from what
 * was read, as the write changes it, so that no third statement reads it back.
 */
export async function addTicketToCart(
  context: CommandContext,
  cartId: string,
  request: AddTicketRequest,
): Promise<AddTicketResult> {
  return retryWhileCartChanges(cartId, async () => {
    const found = requireOpenCart(await findCartWithTicketType(context.client, cartId, request.ticketTypeId), cartId);
    const ticketType = sellableTicketType(found.cart, found.ticketType, request.ticketTypeId);
    const items = withTicketsAdded(found.items, ticketType, request.quantity);
    if (!items) throw quantityLimit();
    const updated = toCart(found.cart, items);
    const notification = prepareNotification(context, ticketAddedMessage(updated, new Date()));
    const added = await addCartItemWithNotification(
      context.client,
      {
        cartId,
        cartVersion: found.cart.version,
        ticketTypeId: ticketType.ticketTypeId,
        quantity: request.quantity,
        // The price is the catalog's, never the client's.
        unitPriceMinor: ticketType.priceMinor,
      },
      MAX_LINE_QUANTITY,
      notification.row,
    );
    return added ? { ...updated, notification: { trackingId: notification.trackingId } } : undefined;
  });
}

function sellableTicketType(cart: CartRow, ticketType: TicketTypeRow | null, ticketTypeId: string): TicketTypeRow {
  if (!ticketType) throw new AppError(404, 'ticket_type_not_found', `no ticket type ${ticketTypeId}`);
  if (ticketType.currency !== cart.currency) {
    throw new AppError(409, 'currency_mismatch', `cart is in ${cart.currency}, ticket type in ${ticketType.currency}`);
  }
  return ticketType;
}

function quantityLimit(): AppError {
  return new AppError(409, 'quantity_limit', `a cart holds at most ${MAX_LINE_QUANTITY} tickets of one type`);
}
