import { randomUUID } from 'node:crypto';
import { uniquePrefix } from '@notify/test-support/broker.js';
import { testPool } from '@notify/test-support/pool.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  deleteTestTopology,
  newCustomer,
  ownDatabase,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

// A database of its own: these tests add events and ticket types that the shared catalog must not show.
const database = ownDatabase('cart_limits');

const EMOJI = '\u{1F3B7}'; // two UTF-16 code units, one character for PostgreSQL

describe('Given catalog rows and carts that a message could not report', () => {
  const prefix = uniquePrefix('cart-limits');
  let service: TicketingService;
  let api: ApiClient;
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await database.create();
    pool = testPool({ connectionString: url, max: 2 });
    service = await startService(testConfig(prefix, { DATABASE_URL: url }));
    api = apiClient(service);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await database.drop();
    await deleteTestTopology(prefix);
  });

  /** A ticket type of the jazz night (or of `eventId`) at this price, in EUR. */
  async function ticketType(priceMinor: number, name = `Type ${randomUUID()}`, eventId?: string): Promise<string> {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO ticketing.ticket_types (id, event_id, name, price_minor, currency)
       SELECT $1, COALESCE($5::uuid, event_id), $2, $3, 'EUR' FROM ticketing.ticket_types WHERE id = $4`,
      [id, name, priceMinor, TICKET_TYPES.jazzStanding.id, eventId ?? null],
    );
    return id;
  }

  async function event(name: string): Promise<string> {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO ticketing.events (id, name, venue, starts_at) VALUES ($1, $2, 'Paradiso', now() + interval '30 days')`,
      [id, name],
    );
    return id;
  }

  async function linesOf(cartId: string): Promise<Array<[string, number]>> {
    const { body } = await api.get(`/carts/${cartId}`);
    return body.lines.map((line: { ticketTypeId: string; quantity: number }) => [line.ticketTypeId, line.quantity]);
  }

  // A message's money is at most 10,000,000,000.00 (MoneySchema): 500 tickets at 20,000,000.00 is
  // 10,000,000,000.00, one more hundred is past it.
  it('When a ticket would take the total past what a message holds, then it answers 409 total_limit naming the quantity, and the cart keeps its lines', async () => {
    const gold = await ticketType(2_000_000_000);
    const { cartId } = await api.createCart();
    for (let added = 0; added < 500; added += 100) expect((await api.addTicket(cartId, gold, 100)).status).toBe(201);

    const refused = await api.addTicket(cartId, gold, 100);

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'total_limit',
      details: [expect.objectContaining({ field: 'body.quantity' })],
    });
    expect(await linesOf(cartId)).toEqual([[gold, 500]]);
    expect((await api.checkout(cartId)).body.total).toEqual({ amountMinor: 1_000_000_000_000, currency: 'EUR' });
  });

  it('When a cart is created with tickets past that total, then it answers 409 total_limit naming the entry, and no cart is made', async () => {
    const gold = await ticketType(2_000_000_000);
    const customer = newCustomer();
    const tickets = Array.from({ length: 6 }, () => ({ ticketTypeId: gold, quantity: 100 }));

    const refused = await api.post('/carts', { customer, tickets });

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'total_limit',
      details: [expect.objectContaining({ field: 'body.tickets.5.quantity' })],
    });
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ticketing.carts WHERE customer_email = $1', [
      customer.email,
    ]);
    expect(rows[0].n).toBe(0);
  });

  // A message lists at most 100 lines (its schema), one per ticket type in the cart.
  it('When a 101st ticket type is added to a cart, then it answers 409 line_limit naming it, and the cart keeps its 100 lines', async () => {
    const types = await Promise.all(Array.from({ length: 101 }, () => ticketType(100)));
    const { cartId } = await api.createCart();
    for (const type of types.slice(0, 100)) expect((await api.addTicket(cartId, type, 1)).status).toBe(201);

    const refused = await api.addTicket(cartId, types[100] ?? '', 1);

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'line_limit',
      details: [expect.objectContaining({ field: 'body.ticketTypeId' })],
    });
    expect(await linesOf(cartId)).toHaveLength(100);
    expect((await api.addTicket(cartId, types[0] ?? '', 1)).status).toBe(201);
    expect((await api.checkout(cartId)).body.total).toEqual({ amountMinor: 101 * 100, currency: 'EUR' });
  });

  // An event's and a ticket type's names go into every notification about their tickets, where the
  // message schema bounds them (migrations/008_catalog_names_fit_messages.sql).
  it.each([
    ['101 characters', 'x'.repeat(101)],
    ['51 characters past U+FFFF (102 UTF-16 code units)', EMOJI.repeat(51)],
    ['only spaces', '   '],
    ['only the whitespace JavaScript trims (no-break and ideographic spaces)', '\u00a0\u3000'],
    ['a line break', 'Balcony\nseat'],
    ['a tab', 'Balcony\tseat'],
  ])(
    'When a ticket type named with %s is written, then the database refuses it, naming the constraint',
    async (_, name) => {
      await expect(ticketType(4500, name)).rejects.toMatchObject({
        code: '23514',
        constraint: 'ticket_types_name_fits_messages',
      });
    },
  );

  it('When an event named with 201 characters is written, then the database refuses it, naming the constraint', async () => {
    await expect(event('e'.repeat(201))).rejects.toMatchObject({
      code: '23514',
      constraint: 'events_name_fits_messages',
    });
  });

  it('When the names are at their bounds, as the message counts them, then the rows are taken and so are the tickets', async () => {
    const eventId = await event(`  ${'E'.repeat(200)}  `);
    const typeId = await ticketType(4500, ` ${EMOJI.repeat(50)}\u00a0`, eventId);
    const { cartId } = await api.createCart();

    const added = await api.addTicket(cartId, typeId, 1);

    expect(added.status).toBe(201);
    const { rows } = await pool.query<{ event_name: string; ticket_type: string }>(
      `SELECT convert_from(content, 'UTF8')::jsonb #>> '{content,lines,0,eventName}' AS event_name,
              convert_from(content, 'UTF8')::jsonb #>> '{content,lines,0,ticketType}' AS ticket_type
       FROM ticketing.outbox WHERE tracking_id = $1`,
      [added.body.notification.trackingId],
    );
    expect(rows[0]).toEqual({ event_name: 'E'.repeat(200), ticket_type: EMOJI.repeat(50) });
  });
});
