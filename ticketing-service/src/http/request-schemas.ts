import { RecipientSchema } from '@notify/shared';
import { z } from 'zod';

/**
 * Ids as the database writes them (a uuid reads back in lower case): a cart named in capitals must
 * not look unwritten when a statement answers which carts it wrote, nor a known type look unknown.
 */
const Id = z.uuid().toLowerCase();

export const AddTicketBody = z.object({
  ticketTypeId: Id,
  quantity: z.number().int().min(1).max(100),
});

/** A cart's first tickets, given with the cart: bounded so that one request stays one small write. */
export const MAX_TICKETS_AT_CREATION = 20;

// The customer becomes the message's recipient: the API refuses what the message schema would.
// Strict: `tickets` is optional, and a misspelt one (`ticket`), dropped as unknown, made a cart
// without the tickets the client sent, with a 201. A field it does not take is a 400 naming it.
export const CreateCartBody = z.strictObject({
  customer: RecipientSchema,
  tickets: z.array(AddTicketBody).min(1).max(MAX_TICKETS_AT_CREATION).optional(),
});

export const CartParams = z.object({ cartId: Id });
