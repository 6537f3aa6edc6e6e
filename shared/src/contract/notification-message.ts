import { z } from 'zod';

export const SCHEMA_VERSION = 1;

export const OPERATIONS = ['ticket.added_to_checkout', 'checkout.completed'] as const;
export const OperationSchema = z.enum(OPERATIONS);
export type Operation = z.infer<typeof OperationSchema>;

export const OPERATION_LABELS: Record<Operation, string> = {
  'ticket.added_to_checkout': 'Ticket added to checkout',
  'checkout.completed': 'Ticket successfully checked out',
};

// PostgreSQL's text and jsonb cannot hold U+0000, and jsonb refuses the JSON escape of an unpaired
// surrogate (JSON.stringify writes "\ud800"): either fails the insert, and the handler records a
// whole batch in one statement. The other C0 controls and DEL have no place in a name, and names
// end up in email headers and subjects.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** What is wrong with a string that must stay on one line, or undefined when nothing is. */
function singleLineProblem(value: string): string | undefined {
  const control = CONTROL_CHARACTER.exec(value)?.[0];
  if (control === '\r' || control === '\n') return 'must not contain CR or LF';
  if (control !== undefined) {
    const code = control.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters (U+0000-U+001F, U+007F): found U+${code}`;
  }
  if (UNPAIRED_SURROGATE.test(value)) return 'must not contain an unpaired UTF-16 surrogate';
  return undefined;
}

/** The rule of `singleLine` as a refinement, for a text that is not in a message but meets the same columns (a filter). */
export function refuseNonSingleLine(value: string, ctx: z.RefinementCtx): void {
  const problem = singleLineProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

/**
 * A one-line string: header-safe, because names end up in email headers and subjects, and
 * storable, because the message is kept in PostgreSQL. The rule for every free text of the message.
 */
export const singleLine = (maxLength: number) =>
  z.string().trim().min(1).max(maxLength).superRefine(refuseNonSingleLine);

// RFC 5321 caps an address at 254 characters and the part before the @ at 64; DNS caps a label of
// the domain at 63, and a host name's label ends in a letter or digit (RFC 1123), which zod's email
// check does not ask: 'ada@example-.com' passes it. A provider refuses an address past them (Mailjet
// answers mj-0013): better a 400 naming the field at the API than a notification accepted and
// failed at its send.
export const EmailSchema = z
  .email()
  .max(254)
  .superRefine((value, ctx) => {
    const at = value.lastIndexOf('@');
    if (at > 64) ctx.addIssue({ code: 'custom', message: 'the part before the @ must be at most 64 characters' });
    const labels = value.slice(at + 1).split('.');
    if (labels.some((label) => label.length > 63))
      ctx.addIssue({ code: 'custom', message: 'each dot-separated part of the domain must be at most 63 characters' });
    if (labels.some((label) => label.endsWith('-')))
      ctx.addIssue({ code: 'custom', message: 'each dot-separated part of the domain must end in a letter or digit' });
  });

export const RecipientSchema = z.object({
  email: EmailSchema,
  name: singleLine(200),
});

/** The largest amount of money a message carries, in minor units (10,000,000,000.00). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

/** Money in integer minor units (cents): floats cannot hold prices exactly. */
export const MoneySchema = z.object({
  amountMinor: z.number().int().nonnegative().max(MAX_AMOUNT_MINOR),
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

/** The most lines a message lists: a cart's, one per ticket type. */
export const MAX_SUMMARY_LINES = 100;

const contentFields = {
  cartId: z.uuid(),
  total: MoneySchema,
  lines: z.array(SummaryLineSchema).min(1).max(MAX_SUMMARY_LINES),
};

// A notification reports something that just happened: a year far from now is a producer's bug.
// The bounds also keep the instant where every consumer can store and carry it: PostgreSQL refuses
// year 0000 (there is no year 0), and the AMQP timestamp property is unsigned seconds since 1970.
const EARLIEST_OCCURRED_AT = Date.parse('2000-01-01T00:00:00Z');
const END_OF_OCCURRED_AT = Date.parse('3000-01-01T00:00:00Z');

// PostgreSQL's timestamptz takes a zone offset up to 15:59 either way (SQLSTATE 22009 past it); the
// zones in use stay within -12:00 and +14:00. zod's check takes hours up to 23.
const MAX_OFFSET_MINUTES = 15 * 60 + 59;
const OFFSET = /([+-])(\d{2}):(\d{2})$/;

/** An ISO 8601 instant with its offset, in years 2000 to 2999 (UTC). */
export const OccurredAtSchema = z.iso
  .datetime({ offset: true })
  .refine(
    (value) => {
      const instant = Date.parse(value);
      return instant >= EARLIEST_OCCURRED_AT && instant < END_OF_OCCURRED_AT;
    },
    { message: 'must be between 2000-01-01T00:00:00Z and 2999-12-31T23:59:59.999Z' },
  )
  .refine(
    (value) => {
      const [, , hours, minutes] = OFFSET.exec(value) ?? [];
      return hours === undefined || Number(hours) * 60 + Number(minutes) <= MAX_OFFSET_MINUTES;
    },
    { message: 'the zone offset must be within -15:59 and +15:59' },
  );

const envelopeFields = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  // PostgreSQL hands a uuid back in lower case; a producer may send capitals. One spelling
  // everywhere keeps a notification's id comparable as text (claims, events, logs).
  trackingId: z.uuid().toLowerCase(),
  occurredAt: OccurredAtSchema,
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
