import { z } from 'zod';

export const SCHEMA_VERSION = 1;

export const OPERATIONS = ['ticket.added_to_checkout', 'checkout.completed'] as const;
export const OperationSchema = z.enum(OPERATIONS);
export type Operation = z.infer<typeof OperationSchema>;

export const OPERATION_LABELS: Record<Operation, string> = {
  'ticket.added_to_checkout': 'Ticket added to checkout',
  'checkout.completed': 'Ticket successfully checked out',
};

const CR_OR_LF = /[\r\n]/;

/** A one-line string: header-safe, because names end up in email headers and subjects. */
export const singleLine = (maxLength: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(maxLength)
    .refine((value) => !CR_OR_LF.test(value), { message: 'must not contain CR or LF' });

// RFC 5321 caps an address at 254 characters.
export const EmailSchema = z.email().max(254);

export const RecipientSchema = z.object({
  email: EmailSchema,
  name: singleLine(200),
});

/** Money in integer minor units (cents): floats cannot hold prices exactly. */
export const MoneySchema = z.object({
  amountMinor: z.number().int().nonnegative().max(1_000_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
});
export type Money = z.infer<typeof MoneySchema>;

export const SummaryLineSchema = z.object({
  eventName: singleLine(200),
  ticketType: singleLine(100),
  quantity: z.number().int().min(1).max(1000),
  unitPrice: MoneySchema,
});
export type SummaryLine = z.infer<typeof SummaryLineSchema>;

const contentFields = {
  cartId: z.uuid(),
  total: MoneySchema,
  lines: z.array(SummaryLineSchema).min(1).max(100),
};

const envelopeFields = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  trackingId: z.uuid(),
  occurredAt: z.iso.datetime({ offset: true }),
  recipient: RecipientSchema,
};

const TicketAddedSchema = z.object({
  ...envelopeFields,
  operation: z.literal('ticket.added_to_checkout'),
  content: z.object(contentFields),
});

const CheckoutCompletedSchema = z.object({
  ...envelopeFields,
  operation: z.literal('checkout.completed'),
  content: z.object({ ...contentFields, orderId: z.uuid() }),
});

export const NotificationMessageSchema = z.discriminatedUnion('operation', [
  TicketAddedSchema,
  CheckoutCompletedSchema,
]);
export type NotificationMessage = z.infer<typeof NotificationMessageSchema>;
export type NotificationMessageInput = z.input<typeof NotificationMessageSchema>;
