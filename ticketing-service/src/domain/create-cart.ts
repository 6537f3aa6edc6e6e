import { MAX_AMOUNT_MINOR } from '@notify/shared';
import { AppError } from '@notify/shared/platform';
import type { CartItemRow } from '../db/cart-item-repository.js';
import { findTicketTypes, type TicketTypeRow } from '../db/catalog-repository.js';
import {
  type Cart,
  type Customer,
  quantityLimitError,
  ticketTypeNotFoundError,
  toCart,
  totalLimitError,
  totalMinorOf,
  withTicketsAdded,
} from './cart.js';
import { type CartSource, retryWhileCartChanges } from './load-cart.js';
import { newId } from './new-id.js';
import { type CommandContext, prepareNotification, ticketAddedMessage } from './notifications.js';

export type TicketRequest = { ticketTypeId: string; quantity: number };
/** A cart created with tickets reports them in one notification. */
export type CreateCartResult = Cart & { notification?: { trackingId: string } };

export async function createCart(
  context: CommandContext,
  customer: Customer,
  tickets: readonly TicketRequest[] = [],
): Promise<CreateCartResult> {
  if (tickets.length > 0) return createCartWithTickets(context, customer, tickets);
  const row = await context.writes.insertCart({
    cartId: newId(),
    customerEmail: customer.email,
    customerName: customer.name,
  });
  context.afterCommit(() => context.carts.rememberCart({ cart: row, items: [] }));
  return toCart(row, []);
}

type TicketTypes = ReadonlyMap<string, TicketTypeRow>;

/**
 * As creating the cart and then adding each entry in turn (a ticket type named twice makes one
 * line), in one request and one statement, with one `ticket.added_to_checkout` notification that
 * shows the whole cart: a client that knows what it wants saves a request, a round trip and a
 * commit per checkout. The cart takes its tickets' currency, so they must share one. One more
 * statement, a read of the ticket types, when this instance does not remember them all.
 */
async function createCartWithTickets(
  context: CommandContext,
  customer: Customer,
  tickets: readonly TicketRequest[],
): Promise<CreateCartResult> {
  const { client, carts } = context;
  const cartId = newId();
  const ticketTypeIds = [...new Set(tickets.map((ticket) => ticket.ticketTypeId))];
  const source: CartSource<TicketTypes> = {
    remembered: () => {
      const remembered = ticketTypeIds.map((id) => carts.ticketType(id));
      return remembered.every((type) => type !== undefined) ? byId(remembered) : undefined;
    },
    read: async () => {
      const read = await findTicketTypes(client, ticketTypeIds);
      for (const type of read) carts.rememberTicketType(type);
      return byId(read);
    },
    forget: () => {
      for (const id of ticketTypeIds) carts.forgetTicketType(id);
    },
    count: carts.count,
  };
  // The statement writes nothing only when a price or currency it was given changed since it was
  // read: the next attempt reads the catalog again.
  return retryWhileCartChanges(cartId, source, async (ticketTypes) => {
    const { items, currency } = firstLines(tickets, ticketTypes ?? new Map());
    const header = {
      cartId,
      customerEmail: customer.email,
      customerName: customer.name,
      currency,
      status: 'open' as const,
    };
    const cart = toCart(header, items);
    const notification = prepareNotification(context, ticketAddedMessage(cart, new Date()));
    const lines = items.map(({ ticketTypeId, quantity, unitPriceMinor }) => ({
      ticketTypeId,
      quantity,
      unitPriceMinor,
    }));
    const row = await context.writes.insertCartWithLines(header, lines, notification.row);
    if (!row) return undefined;
    context.afterCommit(() => carts.rememberCart({ cart: row, items }));
    return { ...cart, notification: { trackingId: notification.trackingId } };
  });
}

/**
 * The new cart's lines, in the order the database lists lines that were added at once, and the
 * currency they share, which becomes the cart's.
 */
function firstLines(
  wanted: readonly TicketRequest[],
  ticketTypes: TicketTypes,
): { items: CartItemRow[]; currency: string } {
  let items: CartItemRow[] = [];
  let currency: string | undefined;
  for (const [index, { ticketTypeId, quantity }] of wanted.entries()) {
    const ticketType = ticketTypes.get(ticketTypeId);
    if (!ticketType) throw ticketTypeNotFoundError(ticketTypeId, `body.tickets.${index}.ticketTypeId`);
    currency ??= ticketType.currency;
    if (ticketType.currency !== currency) {
      throw new AppError(
        409,
        'currency_mismatch',
        `tickets in ${currency} and in ${ticketType.currency} cannot share a cart`,
        [
          {
            field: `body.tickets.${index}.ticketTypeId`,
            message: `is priced in ${ticketType.currency}, not ${currency}`,
          },
        ],
      );
    }
    const added = withTicketsAdded(items, ticketType, quantity);
    if (!added) throw quantityLimitError(`body.tickets.${index}.quantity`);
    if (totalMinorOf(added) > MAX_AMOUNT_MINOR) throw totalLimitError(`body.tickets.${index}.quantity`);
    items = added;
  }
  // createCart comes here only with tickets: no currency would be a bug, not a cart without one.
  if (currency === undefined) throw new Error('a cart created with tickets needs at least one');
  const sorted = items.sort((a, b) => (a.ticketTypeId < b.ticketTypeId ? -1 : a.ticketTypeId > b.ticketTypeId ? 1 : 0));
  return { items: sorted, currency };
}

function byId(ticketTypes: readonly (TicketTypeRow | undefined)[]): TicketTypes {
  return new Map(ticketTypes.flatMap((type) => (type ? [[type.ticketTypeId, type] as const] : [])));
}
