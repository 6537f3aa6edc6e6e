import type { Db } from './queryable.js';

// The catalog is two tables that are only ever read together: events and their ticket types.

export type EventRow = { eventId: string; name: string; venue: string; startsAt: Date };

export type TicketTypeRow = {
  ticketTypeId: string;
  eventId: string;
  eventName: string;
  name: string;
  priceMinor: number;
  currency: string;
};

const TICKET_TYPE_COLUMNS = `
  t.id AS "ticketTypeId", t.event_id AS "eventId", e.name AS "eventName", t.name,
  t.price_minor AS "priceMinor", t.currency`;

export async function listEvents(db: Db): Promise<EventRow[]> {
  const result = await db.query<EventRow>(
    `SELECT id AS "eventId", name, venue, starts_at AS "startsAt" FROM ticketing.events ORDER BY starts_at, id`,
  );
  return result.rows;
}

export async function listTicketTypes(db: Db): Promise<TicketTypeRow[]> {
  const result = await db.query<TicketTypeRow>(
    `SELECT ${TICKET_TYPE_COLUMNS}
       FROM ticketing.ticket_types t JOIN ticketing.events e ON e.id = t.event_id
      ORDER BY t.price_minor, t.id`,
  );
  return result.rows;
}

/** The ticket types among `ticketTypeIds` that exist, in no particular order. */
export async function findTicketTypes(db: Db, ticketTypeIds: readonly string[]): Promise<TicketTypeRow[]> {
  const result = await db.query<TicketTypeRow>({
    name: 'ticketing.find-ticket-types',
    text: `SELECT ${TICKET_TYPE_COLUMNS}
             FROM ticketing.ticket_types t JOIN ticketing.events e ON e.id = t.event_id
            WHERE t.id = ANY($1::uuid[])`,
    values: [ticketTypeIds],
  });
  return result.rows;
}
