import { MAX_AMOUNT_MINOR, MAX_SUMMARY_LINES, type Money, type SummaryLine } from '@notify/shared';
import { AppError } from '@notify/shared/platform';
import type { CartItemRow } from '../db/cart-item-repository.js';
import type { CartRow, CartStatus } from '../db/cart-repository.js';
import type { TicketTypeRow } from '../db/catalog-repository.js';

export type Customer = { email: string; name: string };

export type CartLine = {
  ticketTypeId: string;
  eventName: string;
  ticketType: string;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
};

/** A cart as the API shows it and the messages summarise it. */
export type Cart = {
  cartId: string;
  customer: Customer;
  status: CartStatus;
  lines: CartLine[];
  total: Money;
};

/** The message schema caps a line at 1000 tickets. */
export const MAX_LINE_QUANTITY = 1000;

/** What a cart shows of its row: a cart about to be written has no version or creation time yet. */
export type CartHeader = Pick<CartRow, 'cartId' | 'customerEmail' | 'customerName' | 'currency' | 'status'>;

export function toCart(row: CartHeader, items: CartItemRow[]): Cart {
  const lines = items.map((item) => toLine(item, row.currency));
  const amountMinor = totalMinorOf(items);
  return {
    cartId: row.cartId,
    customer: { email: row.customerEmail, name: row.customerName },
    status: row.status,
    lines,
    total: { amountMinor, currency: row.currency },
  };
}

/**
 * The lines after `quantity` tickets of `ticketType` are added, as the database changes them: an
 * existing line keeps its place, raises its quantity and takes the catalog's current price; a new
 * line comes last (lines are ordered by when they were first added). Undefined when the line would
 * go over MAX_LINE_QUANTITY.
 */
export function withTicketsAdded(
  items: readonly CartItemRow[],
  ticketType: TicketTypeRow,
  quantity: number,
): CartItemRow[] | undefined {
  const existing = items.find((item) => item.ticketTypeId === ticketType.ticketTypeId);
  const newQuantity = (existing?.quantity ?? 0) + quantity;
  if (newQuantity > MAX_LINE_QUANTITY) return undefined;
  const line: CartItemRow = {
    ticketTypeId: ticketType.ticketTypeId,
    eventName: ticketType.eventName,
    ticketTypeName: ticketType.name,
    quantity: newQuantity,
    unitPriceMinor: ticketType.priceMinor,
    currency: ticketType.currency,
  };
  return existing ? items.map((item) => (item === existing ? line : item)) : [...items, line];
}

/** The cart's total in minor units: a few thousand lines of the largest price stay exact. */
export function totalMinorOf(items: readonly CartItemRow[]): number {
  return items.reduce((sum, item) => sum + item.unitPriceMinor * item.quantity, 0);
}

/**
 * A message's money is at most MAX_AMOUNT_MINOR: a cart whose total went past it could be neither
 * reported nor checked out (the message schema refuses it, after the change was worked out).
 * `field` names the quantity in the request, as a 400 would name it.
 */
export function totalLimitError(field: string): AppError {
  const message = `a cart's total is at most ${MAX_AMOUNT_MINOR} minor units`;
  return new AppError(409, 'total_limit', message, [
    { field, message: `takes the cart's total past ${MAX_AMOUNT_MINOR} minor units` },
  ]);
}

/**
 * A message lists at most MAX_SUMMARY_LINES lines, one per ticket type in the cart. `field` names
 * the ticket type in the request, as a 400 would name it.
 */
export function lineLimitError(field: string): AppError {
  return new AppError(409, 'line_limit', `a cart holds at most ${MAX_SUMMARY_LINES} ticket types`, [
    { field, message: `would be the cart's line number ${MAX_SUMMARY_LINES + 1}` },
  ]);
}

/** `field` names the ticket type in the request, as a 400 would name it. */
export function ticketTypeNotFoundError(ticketTypeId: string, field: string): AppError {
  return new AppError(404, 'ticket_type_not_found', `no ticket type ${ticketTypeId}`, [
    { field, message: 'is not in the catalog' },
  ]);
}

/** `field` names the quantity in the request, as a 400 would name it. */
export function quantityLimitError(field: string): AppError {
  const message = `a cart holds at most ${MAX_LINE_QUANTITY} tickets of one type`;
  return new AppError(409, 'quantity_limit', message, [
    { field, message: `takes the line past ${MAX_LINE_QUANTITY} tickets` },
  ]);
}

function toLine(item: CartItemRow, currency: string): CartLine {
  return {
    ticketTypeId: item.ticketTypeId,
    eventName: item.eventName,
    ticketType: item.ticketTypeName,
    quantity: item.quantity,
    unitPrice: { amountMinor: item.unitPriceMinor, currency },
    lineTotal: { amountMinor: item.unitPriceMinor * item.quantity, currency },
  };
}

export function summaryLines(cart: Cart): SummaryLine[] {
  return cart.lines.map(({ eventName, ticketType, quantity, unitPrice }) => ({
    eventName,
    ticketType,
    quantity,
    unitPrice,
  }));
}
