import { NotificationMessageSchema } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import { describe, expect, it } from 'vitest';

const toKey = (segment: string) => (/^\d+$/.test(segment) ? Number(segment) : segment);

function failingPaths(candidate: unknown): string[] {
  const result = NotificationMessageSchema.safeParse(candidate);
  if (result.success) return [];
  return result.error.issues.map((issue) => issue.path.join('.'));
}

describe('notification message v1 schema', () => {
  it.each(['ticket.added_to_checkout', 'checkout.completed'] as const)(
    'When a valid %s message is parsed, then it is accepted unchanged',
    (operation) => {
      const message = buildMessage(operation);
      expect(NotificationMessageSchema.parse(message)).toEqual(message);
    },
  );

  const cases: Array<[string, (m: Record<string, any>) => void, string]> = [
    ['trackingId is missing', (m) => delete m.trackingId, 'trackingId'],
    ['trackingId is not a UUID', (m) => (m.trackingId = 'order-42'), 'trackingId'],
    ['the operation is unknown', (m) => (m.operation = 'ticket.refunded'), 'operation'],
    ['the email is invalid', (m) => (m.recipient.email = 'ada@'), 'recipient.email'],
    ['the name carries a CR/LF', (m) => (m.recipient.name = 'Ada\r\nBcc: victim@example.com'), 'recipient.name'],
    ['the name carries a bare LF', (m) => (m.recipient.name = 'Ada\nLovelace'), 'recipient.name'],
    ['the total is negative', (m) => (m.content.total.amountMinor = -1), 'content.total.amountMinor'],
    ['the total is fractional', (m) => (m.content.total.amountMinor = 12.5), 'content.total.amountMinor'],
    [
      'a line price is fractional',
      (m) => (m.content.lines[0].unitPrice.amountMinor = 0.1),
      'content.lines.0.unitPrice.amountMinor',
    ],
    ['the name is over-long', (m) => (m.recipient.name = 'a'.repeat(201)), 'recipient.name'],
    [
      'the event name is over-long',
      (m) => (m.content.lines[0].eventName = 'e'.repeat(201)),
      'content.lines.0.eventName',
    ],
    ['the email is over-long', (m) => (m.recipient.email = `${'a'.repeat(250)}@example.com`), 'recipient.email'],
    [
      'the email has 65 characters before the @',
      (m) => (m.recipient.email = `${'a'.repeat(65)}@example.com`),
      'recipient.email',
    ],
    [
      'a label of the email domain has 64 characters',
      (m) => (m.recipient.email = `ada@${'b'.repeat(64)}.com`),
      'recipient.email',
    ],
    // Mailjet (and the sandbox, which checks as it does) refuses it: mj-0013, the email failed.
    [
      'a label of the email domain ends in a hyphen',
      (m) => (m.recipient.email = 'ada@example-.com'),
      'recipient.email',
    ],
    [
      'an inner label of the email domain ends in a hyphen',
      (m) => (m.recipient.email = 'ada@mail-.example.com'),
      'recipient.email',
    ],
    ['the schemaVersion is unknown', (m) => (m.schemaVersion = 2), 'schemaVersion'],
    ['the currency is not ISO 4217', (m) => (m.content.total.currency = 'euro'), 'content.total.currency'],
    ['a completed checkout has no orderId', (m) => delete m.content.orderId, 'content.orderId'],
  ];

  it.each(cases)('When %s, then it is rejected naming that field', (_title, spoil, path) => {
    const message = structuredClone(buildMessage('checkout.completed')) as Record<string, any>;
    spoil(message);
    expect(failingPaths(message)).toContain(path);
  });

  it('When an email is at the bounds (64 before the @, a 63-character label), then it is accepted', () => {
    const message = structuredClone(buildMessage('checkout.completed'));
    message.recipient.email = `${'a'.repeat(64)}@${'b'.repeat(63)}.example.com`;
    expect(NotificationMessageSchema.parse(message).recipient.email).toBe(message.recipient.email);
  });

  // PostgreSQL refuses these in text and jsonb (NUL, unpaired surrogates) or has no place for them
  // in a header or a subject line (the other C0 controls, DEL).
  const unstorable: Array<[string, string, RegExp]> = [
    ['a NUL', 'A\u0000B', /control characters.*found U\+0000/],
    ['a tab', 'A\tB', /control characters.*found U\+0009/],
    ['an escape (U+001B)', 'A\u001bB', /control characters.*found U\+001B/],
    ['a unit separator (U+001F)', 'A\u001fB', /control characters.*found U\+001F/],
    ['a DEL (U+007F)', 'A\u007fB', /control characters.*found U\+007F/],
    ['an unpaired surrogate', 'A\ud800B', /unpaired UTF-16 surrogate/],
  ];
  const textFields: Array<[string, (m: Record<string, any>, text: string) => void]> = [
    ['recipient.name', (m, text) => (m.recipient.name = text)],
    ['content.lines.0.eventName', (m, text) => (m.content.lines[0].eventName = text)],
    ['content.lines.0.ticketType', (m, text) => (m.content.lines[0].ticketType = text)],
  ];

  describe.each(textFields)('%s', (path, put) => {
    it.each(unstorable)(
      'When it carries %s, then it is rejected naming the field and the character',
      (_t, text, why) => {
        const message = structuredClone(buildMessage('checkout.completed')) as Record<string, any>;
        put(message, text);

        const result = NotificationMessageSchema.safeParse(message);

        expect(result.success).toBe(false);
        expect(result.error?.issues).toEqual([expect.objectContaining({ path: path.split('.').map(toKey) })]);
        expect(result.error?.issues[0]?.message).toMatch(why);
      },
    );
  });

  it('When the name carries CR/LF, then one issue says so, not a second one about control characters', () => {
    const message = structuredClone(buildMessage()) as Record<string, any>;
    message.recipient.name = 'Ada\r\nBcc: victim@example.com';

    const result = NotificationMessageSchema.safeParse(message);

    expect(result.error?.issues.map((issue) => issue.message)).toEqual(['must not contain CR or LF']);
  });

  it('When the email carries a NUL or a tab, then it is rejected naming recipient.email', () => {
    for (const email of ['ada\u0000@example.com', 'ada@exa\tmple.com']) {
      const message = structuredClone(buildMessage()) as Record<string, any>;
      message.recipient.email = email;
      expect(failingPaths(message)).toEqual(['recipient.email']);
    }
  });

  it('When names hold accents, emoji and non-Latin scripts, then they are accepted unchanged', () => {
    const message = buildMessage();
    message.recipient.name = 'Zoë Ångström 🎷 李小龍';
    message.content.lines[0]!.eventName = 'Nuit du jazz « Été » — 2027';

    expect(NotificationMessageSchema.parse(message)).toEqual(message);
  });

  it.each([
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['year 1999', '1999-12-31T23:59:59.999Z'],
    ['year 3000', '3000-01-01T00:00:00Z'],
    ['year 2000 by its offset but 1999 in UTC', '2000-01-01T00:30:00+01:00'],
    ['year 9999', '9999-12-31T23:59:59Z'],
  ])('When occurredAt is in %s, then it is rejected naming occurredAt', (_title, occurredAt) => {
    const message = { ...buildMessage(), occurredAt };

    const result = NotificationMessageSchema.safeParse(message);

    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['occurredAt'], message: expect.stringMatching(/between 2000.*and 2999/) }),
    ]);
  });

  // PostgreSQL takes offsets up to ±15:59: past that, the handler's insert failed (SQLSTATE 22009) and
  // a message the contract accepts was dead-lettered as refused by the database.
  it.each(['2026-11-30T12:00:00+16:00', '2026-11-30T12:00:00-23:59'])(
    'When occurredAt carries the zone offset of %s, past ±15:59, then it is rejected naming occurredAt',
    (occurredAt) => {
      const message = { ...buildMessage(), occurredAt };

      const result = NotificationMessageSchema.safeParse(message);

      expect(result.error?.issues).toEqual([
        expect.objectContaining({ path: ['occurredAt'], message: expect.stringMatching(/offset/) }),
      ]);
    },
  );

  it.each(['2026-11-30T12:00:00+15:59', '2026-11-30T12:00:00-15:59', '2026-11-30T12:00:00+14:00'])(
    'When occurredAt carries the zone offset of %s, within ±15:59, then it is accepted',
    (occurredAt) => {
      const message = { ...buildMessage(), occurredAt };
      expect(NotificationMessageSchema.parse(message)).toEqual(message);
    },
  );

  it.each([
    '2000-01-01T00:00:00Z',
    '2999-12-31T23:59:59.999Z',
    '2999-12-31T23:00:00-00:30',
    '2026-11-30T12:00:00+02:00',
  ])('When occurredAt is %s, inside years 2000-2999 in UTC, then it is accepted', (occurredAt) => {
    const message = { ...buildMessage(), occurredAt };
    expect(NotificationMessageSchema.parse(message)).toEqual(message);
  });
});
