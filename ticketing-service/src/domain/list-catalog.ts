import type { Money } from '@notify/shared';
import { listEvents, listTicketTypes } from '../db/catalog-repository.js';
import type { Db } from '../db/queryable.js';

export type CatalogEvent = {
  eventId: string;
  name: string;
  venue: string;
  startsAt: string;
  ticketTypes: { ticketTypeId: string; name: string; price: Money }[];
};

export async function listCatalog(db: Db): Promise<CatalogEvent[]> {
  const [events, ticketTypes] = await Promise.all([listEvents(db), listTicketTypes(db)]);
  return events.map((event) => ({
    eventId: event.eventId,
    name: event.name,
    venue: event.venue,
    startsAt: event.startsAt.toISOString(),
    ticketTypes: ticketTypes
      .filter((type) => type.eventId === event.eventId)
      .map((type) => ({
        ticketTypeId: type.ticketTypeId,
        name: type.name,
        price: { amountMinor: type.priceMinor, currency: type.currency },
      })),
  }));
}
