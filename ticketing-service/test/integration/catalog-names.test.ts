import { randomUUID } from 'node:crypto';
import { uniquePrefix } from '@notify/test-support/broker.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  deleteTestTopology,
  ownDatabase,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

// A database of its own: these tests add events and ticket types that the shared catalog must not show.
const database = ownDatabase('catalog_names');

const EMOJI = '\u{1F3B7}'; // two UTF-16 code units, one character for PostgreSQL

describe('Given a catalog whose names travel in every notification', () => {
  const prefix = uniquePrefix('catalog-names');
  let service: TicketingService;
  let api: ApiClient;
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await database.create();
    pool = new pg.Pool({ connectionString: url, max: 2 });
    service = await startService(testConfig(prefix, { DATABASE_URL: url }));
    api = apiClient(service);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await database.drop();
    await deleteTestTopology(prefix);
  });

  async function addEvent(name: string): Promise<string> {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO ticketing.events (id, name, venue, starts_at) VALUES ($1, $2, 'Paradiso', now() + interval '30 days')`,
      [id, name],
    );
    return id;
  }

  async function addTicketType(name: string, eventId?: string): Promise<string> {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO ticketing.ticket_types (id, event_id, name, price_minor, currency)
       SELECT $1, COALESCE($3::uuid, event_id), $2, 4500, 'EUR' FROM ticketing.ticket_types WHERE id = $4`,
      [id, name, eventId ?? null, TICKET_TYPES.jazzStanding.id],
    );
    return id;
  }

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
      await expect(addTicketType(name)).rejects.toMatchObject({
        code: '23514',
        constraint: 'ticket_types_name_fits_messages',
      });
    },
  );

  it('When an event named with 201 characters is written, then the database refuses it, naming the constraint', async () => {
    await expect(addEvent('e'.repeat(201))).rejects.toMatchObject({
      code: '23514',
      constraint: 'events_name_fits_messages',
    });
  });

  it('When the names are at their bounds, as the message counts them, then the rows are taken and so are the tickets', async () => {
    const eventId = await addEvent(`  ${'E'.repeat(200)}  `);
    const ticketTypeId = await addTicketType(` ${EMOJI.repeat(50)}\u00a0`, eventId);
    const { cartId } = await api.createCart();

    const added = await api.addTicket(cartId, ticketTypeId, 1);

    expect(added.status).toBe(201);
    const { rows } = await pool.query<{ event_name: string; ticket_type: string }>(
      `SELECT convert_from(content, 'UTF8')::jsonb #>> '{content,lines,0,eventName}' AS event_name,
              convert_from(content, 'UTF8')::jsonb #>> '{content,lines,0,ticketType}' AS ticket_type
       FROM ticketing.outbox WHERE routing_key = 'ticket.added_to_checkout' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toEqual({ event_name: 'E'.repeat(200), ticket_type: EMOJI.repeat(50) });
  });
});
