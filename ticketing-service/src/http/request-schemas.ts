import { RecipientSchema } from '@notify/shared';
import { z } from 'zod';

// The customer becomes the message's recipient: the API refuses what the message schema would.
export const CreateCartBody = z.object({ customer: RecipientSchema });

export const CartParams = z.object({ cartId: z.uuid() });

export const AddTicketBody = z.object({
  ticketTypeId: z.uuid(),
  quantity: z.number().int().min(1).max(100),
});
