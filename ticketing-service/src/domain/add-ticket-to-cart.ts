import { AppError } from '@notify/shared/platform';
import { addCartItem, listCartItems } from '../db/cart-item-repository.js';
import type { CartRow } from '../db/cart-repository.js';
import { findTicketType, type TicketTypeRow } from '../db/catalog-repository.js';
import { type Cart, MAX_LINE_QUANTITY, toCart } from './cart.js';
import { lockOpenCart } from './load-cart.js';
import { type CommandContext, enqueueNotification, ticketAddedMessage } from './notifications.js';

export type AddTicketRequest = { ticketTypeId: string; quantity: number };
export type AddTicketResult = Cart & { notification: { trackingId: string } };

export async function addTicketToCart(
  context: CommandContext,
  cartId: string,
  request: AddTicketRequest,
): Promise<AddTicketResult> {
  const cart = await lockOpenCart(context.client, cartId);
  const ticketType = await findSellableTicketType(context, cart, request.ticketTypeId);
  const added = await addCartItem(
    context.client,
    {
      cartId,
      ticketTypeId: ticketType.ticketTypeId,
      quantity: request.quantity,
      // The price is the catalog's, never the client's.
      unitPriceMinor: ticketType.priceMinor,
    },
    MAX_LINE_QUANTITY,
  );
  if (!added) {
    throw new AppError(409, 'quantity_limit', `a cart holds at most ${MAX_LINE_QUANTITY} tickets of one type`);
  }
  // The cart row is locked and unchanged: only its lines need reading again.
  const updated = toCart(cart, await listCartItems(context.client, cartId));
  const notification = await enqueueNotification(context, ticketAddedMessage(updated, new Date()));
  return { ...updated, notification };
}

async function findSellableTicketType(
  { client }: CommandContext,
  cart: CartRow,
  ticketTypeId: string,
): Promise<TicketTypeRow> {
  const ticketType = await findTicketType(client, ticketTypeId);
  if (!ticketType) throw new AppError(404, 'ticket_type_not_found', `no ticket type ${ticketTypeId}`);
  if (ticketType.currency !== cart.currency) {
    throw new AppError(409, 'currency_mismatch', `cart is in ${cart.currency}, ticket type in ${ticketType.currency}`);
  }
  return ticketType;
}
