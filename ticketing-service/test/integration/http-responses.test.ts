import { randomUUID } from 'node:crypto';
import { uniquePrefix } from '@notify/test-support/broker.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  deleteTestTopology,
  newCustomer,
  openPool,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

describe('ticketing HTTP API: responses', () => {
  const prefix = uniquePrefix('ticketing');
  let service: TicketingService;
  let api: ApiClient;
  let pool: pg.Pool;

  beforeAll(async () => {
    service = await startService(testConfig(prefix));
    api = apiClient(service);
    pool = openPool();
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await deleteTestTopology(prefix);
  });

  async function cartsOf(email: string): Promise<number> {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ticketing.carts WHERE customer_email = $1', [
      email,
    ]);
    return rows[0].n;
  }

  describe('catalog and probes', () => {
    it('When the catalog is asked for, then it lists events with ticket types priced in minor units', async () => {
      const { status, body } = await api.get('/events');

      expect(status).toBe(200);
      const jazz = body.events.find((event: any) => event.eventId === 'e1000000-0000-4000-8000-000000000001');
      expect(jazz).toMatchObject({ name: 'Spring Jazz Night', startsAt: '2027-04-17T19:30:00.000Z' });
      expect(jazz.ticketTypes).toContainEqual({
        ticketTypeId: TICKET_TYPES.jazzStanding.id,
        name: 'Standing',
        price: { amountMinor: 4500, currency: 'EUR' },
      });
    });

    it('When liveness and readiness are probed, then both answer 200 and readiness reports each part', async () => {
      const health = await api.get('/healthz');
      const ready = await api.get('/readyz');

      expect(health.status).toBe(200);
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', database: 'up', broker: expect.stringMatching(/^(up|down)$/) });
    });
  });

  it('When answers go out, then none carries an ETag: the API hashes no answer for a cache that no client keeps', async () => {
    const catalog = await api.get('/events');
    const created = await api.post('/carts', { customer: newCustomer() });

    expect(catalog.status).toBe(200);
    expect(created.status).toBe(201);
    expect(catalog.headers.get('etag')).toBeNull();
    expect(created.headers.get('etag')).toBeNull();
  });

  describe('carts', () => {
    it('When a cart is created, then it answers 201 with an empty open cart for that customer', async () => {
      const customer = newCustomer();

      const { status, body } = await api.post('/carts', { customer });

      expect(status).toBe(201);
      expect(body).toEqual({
        cartId: expect.any(String),
        customer,
        status: 'open',
        lines: [],
        total: { amountMinor: 0, currency: 'EUR' },
      });
      expect((await api.get(`/carts/${body.cartId}`)).body).toEqual(body);
    });

    it('When the customer is invalid, then it answers 400 naming each wrong field', async () => {
      const { status, body } = await api.post('/carts', { customer: { email: 'not-an-email', name: 'Eve\r\nBcc: x' } });

      expect(status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details.map((detail: any) => detail.field)).toEqual([
        'body.customer.email',
        'body.customer.name',
      ]);
    });

    it.each([
      ['a NUL', 'A\u0000B', 'U+0000'],
      ['a tab', 'A\tB', 'U+0009'],
      ['a DEL', 'A\u007fB', 'U+007F'],
    ])('When the customer name carries %s, then it answers 400 naming body.customer.name', async (_t, name, code) => {
      const { status, body } = await api.post('/carts', { customer: { ...newCustomer(), name } });

      expect(status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details).toEqual([{ field: 'body.customer.name', message: expect.stringContaining(code) }]);
    });

    it('When the customer email has a domain label ending in a hyphen, then it answers 400 naming body.customer.email, and no cart is made', async () => {
      // Mailjet refuses such an address (mj-0013): accepted here, its notification could only fail.
      const email = `buyer-${randomUUID()}@example-.com`;

      const { status, body } = await api.post('/carts', { customer: { email, name: 'Ada' } });

      expect(status).toBe(400);
      expect(body.error.details).toEqual([{ field: 'body.customer.email', message: expect.any(String) }]);
      expect(await cartsOf(email)).toBe(0);
    });

    it('When the body carries a field the API does not take (tickets misspelt), then it answers 400 naming it, and no cart is made', async () => {
      const customer = newCustomer();
      const ticket = [{ ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 2 }];

      const { status, body } = await api.post('/carts', { customer, ticket });

      expect(status).toBe(400);
      expect(body.error.details).toEqual([{ field: 'body.ticket', message: expect.any(String) }]);
      expect(await cartsOf(customer.email)).toBe(0);
    });

    it('When the body is missing, then it answers 400 naming the missing field', async () => {
      const { status, body } = await api.post('/carts');

      expect(status).toBe(400);
      expect(body.error.details).toEqual([{ field: 'body.customer', message: expect.any(String) }]);
    });

    it('When the body is not valid JSON, then it answers 400 in the error shape', async () => {
      const { status, body } = await api.post('/carts', '{"customer": {');

      expect(status).toBe(400);
      expect(body).toEqual({ error: { code: 'malformed_json', message: expect.any(String) } });
    });

    it('When a JSON body is sent under another media type or none, then it answers 415 naming the header, and no cart is made', async () => {
      const customer = newCustomer();
      const asText = await api.post('/carts', JSON.stringify({ customer }), { 'content-type': 'text/plain' });
      const asForm = await api.post('/carts', JSON.stringify({ customer }), {
        'content-type': 'application/x-www-form-urlencoded',
      });

      for (const { status, body } of [asText, asForm]) {
        expect(status).toBe(415);
        expect(body.error).toMatchObject({
          code: 'unsupported_media_type',
          details: [{ field: 'headers.content-type', message: 'must be application/json' }],
        });
      }
      expect(asText.body.error.message).toContain('text/plain');
      expect(await cartsOf(customer.email)).toBe(0);
    });

    it('When the body is over 16 KiB, then it answers 413', async () => {
      const { status, body } = await api.post('/carts', { customer: newCustomer(), padding: 'x'.repeat(17 * 1024) });

      expect(status).toBe(413);
      expect(body.error.code).toBe('body_too_large');
    });

    it('When a cart id is not a UUID, then it answers 400 naming params.cartId', async () => {
      const { status, body } = await api.get('/carts/not-a-uuid');

      expect(status).toBe(400);
      expect(body.error.details).toEqual([{ field: 'params.cartId', message: expect.any(String) }]);
    });

    it('When a cart id is not valid percent-encoding, then each cart route answers 400 validation_failed naming params.cartId', async () => {
      const responses = await Promise.all([
        api.get('/carts/%ZZ'),
        api.addTicket('%E0%A4%A', TICKET_TYPES.jazzStanding.id, 1),
        api.checkout('%ZZ'),
      ]);

      expect(responses.map((response) => response.status)).toEqual([400, 400, 400]);
      for (const response of responses) {
        expect(response.body.error).toMatchObject({
          code: 'validation_failed',
          details: [{ field: 'params.cartId', message: expect.any(String) }],
        });
      }
    });

    it('When a cart does not exist, then reading, adding to and checking it out answer 404', async () => {
      const missing = randomUUID();

      const responses = await Promise.all([
        api.get(`/carts/${missing}`),
        api.addTicket(missing, TICKET_TYPES.jazzStanding.id, 1),
        api.checkout(missing),
      ]);

      expect(responses.map((response) => response.status)).toEqual([404, 404, 404]);
      expect(responses.map((response) => response.body.error.code)).toEqual(Array(3).fill('cart_not_found'));
      for (const response of responses) {
        expect(response.body.error.details).toEqual([expect.objectContaining({ field: 'params.cartId' })]);
      }
    });

    it('When the route does not exist, then it answers 404 in the error shape', async () => {
      const { status, body } = await api.get('/no/such/route');

      expect(status).toBe(404);
      expect(body).toEqual({ error: { code: 'not_found', message: 'no route for GET /no/such/route' } });
    });
  });

  describe('adding tickets', () => {
    it('When tickets are added, then it answers 201 with catalog prices, the total and a tracking id', async () => {
      const { cartId } = await api.createCart();

      await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 2);
      const { status, body } = await api.addTicket(cartId, TICKET_TYPES.jazzBalcony.id, 1);

      expect(status).toBe(201);
      expect(body.lines).toEqual([
        expect.objectContaining({
          ticketType: 'Standing',
          quantity: 2,
          unitPrice: { amountMinor: 4500, currency: 'EUR' },
        }),
        expect.objectContaining({
          ticketType: 'Balcony seat',
          quantity: 1,
          lineTotal: { amountMinor: 6500, currency: 'EUR' },
        }),
      ]);
      expect(body.total).toEqual({ amountMinor: 2 * 4500 + 6500, currency: 'EUR' });
      expect(body.notification.trackingId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('When the same ticket type is added twice, then its line quantity grows', async () => {
      const { cartId } = await api.createCart();

      await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1);
      const { body } = await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 3);

      expect(body.lines).toHaveLength(1);
      expect(body.lines[0].quantity).toBe(4);
      expect(body.total.amountMinor).toBe(4 * 1500);
    });

    it('When types are added in turns, then each answer shows the cart exactly as it is then stored', async () => {
      const { cartId } = await api.createCart();
      const adds = [
        [TICKET_TYPES.jazzBalcony.id, 1],
        [TICKET_TYPES.jazzStanding.id, 2],
        [TICKET_TYPES.jazzBalcony.id, 3],
      ] as const;

      for (const [ticketTypeId, quantity] of adds) {
        const { body: answered } = await api.addTicket(cartId, ticketTypeId, quantity);
        const { body: stored } = await api.get(`/carts/${cartId}`);
        const { notification: _, ...cart } = answered;
        expect(cart).toEqual(stored);
      }
      const { body: last } = await api.get(`/carts/${cartId}`);
      expect(
        last.lines.map((line: { ticketType: string; quantity: number }) => [line.ticketType, line.quantity]),
      ).toEqual([
        ['Balcony seat', 4],
        ['Standing', 2],
      ]);
    });

    it('When a line would go over 1000 tickets, then it answers 409 and the line keeps its quantity', async () => {
      const { cartId } = await api.createCart();
      for (let i = 0; i < 10; i++) await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 100);

      const refused = await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1);
      const cart = await api.get(`/carts/${cartId}`);

      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'quantity_limit' } } });
      expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'body.quantity' })]);
      expect(cart.body.lines).toEqual([expect.objectContaining({ quantity: 1000 })]);
    });

    it('When a price is sent by the client, then it is ignored and the catalog price applies', async () => {
      const { cartId } = await api.createCart();

      const { body } = await api.post(`/carts/${cartId}/tickets`, {
        ticketTypeId: TICKET_TYPES.jazzStanding.id,
        quantity: 1,
        unitPrice: { amountMinor: 1, currency: 'EUR' },
      });

      expect(body.total).toEqual({ amountMinor: 4500, currency: 'EUR' });
    });

    it('When the ticket type does not exist, then it answers 404', async () => {
      const { cartId } = await api.createCart();

      const { status, body } = await api.addTicket(cartId, randomUUID(), 1);

      expect(status).toBe(404);
      expect(body.error.code).toBe('ticket_type_not_found');
      expect(body.error.details).toEqual([expect.objectContaining({ field: 'body.ticketTypeId' })]);
    });

    it('When the request is invalid, then it answers 400 naming each wrong field', async () => {
      const { cartId } = await api.createCart();

      const { status, body } = await api.post(`/carts/${cartId}/tickets`, { ticketTypeId: 'x', quantity: 0 });

      expect(status).toBe(400);
      expect(body.error.details.map((detail: any) => detail.field)).toEqual(['body.ticketTypeId', 'body.quantity']);
    });
  });

  describe('creating a cart with its first tickets', () => {
    const { jazzStanding, jazzBalcony, matineeStudent } = TICKET_TYPES;

    it('When tickets come with the cart, then it answers 201 with the cart as stored, one line per type, and one tracking id', async () => {
      const customer = newCustomer();

      const { status, body } = await api.post('/carts', {
        customer,
        tickets: [
          { ticketTypeId: jazzBalcony.id, quantity: 1 },
          { ticketTypeId: jazzStanding.id.toUpperCase(), quantity: 2 },
          { ticketTypeId: jazzBalcony.id, quantity: 3 },
        ],
      });

      expect(status).toBe(201);
      const { notification, ...cart } = body;
      expect(notification.trackingId).toMatch(/^[0-9a-f-]{36}$/);
      expect(cart).toEqual((await api.get(`/carts/${body.cartId}`)).body);
      expect(cart).toMatchObject({
        customer,
        status: 'open',
        total: { amountMinor: 4 * 6500 + 2 * 4500, currency: 'EUR' },
      });
      expect(cart.lines.map((line: any) => [line.ticketTypeId, line.quantity, line.unitPrice.amountMinor])).toEqual(
        [
          [jazzBalcony.id, 4, 6500],
          [jazzStanding.id, 2, 4500],
        ].sort(([a], [b]) => String(a).localeCompare(String(b))),
      );
    });

    it('When more tickets are added and the cart checked out, then the first lines stay first and the order counts them all', async () => {
      const created = await api.post('/carts', {
        customer: newCustomer(),
        tickets: [{ ticketTypeId: jazzStanding.id, quantity: 2 }],
      });
      const { cartId } = created.body;

      const added = await api.addTicket(cartId, matineeStudent.id, 1);
      const checkedOut = await api.checkout(cartId);

      expect(added.body.lines.map((line: any) => line.ticketTypeId)).toEqual([jazzStanding.id, matineeStudent.id]);
      expect(checkedOut).toMatchObject({ status: 201, body: { total: { amountMinor: 2 * 4500 + 1500 } } });
      expect(new Set([created.body.notification.trackingId, added.body.notification.trackingId]).size).toBe(2);
    });

    it('When a ticket type does not exist, then it answers 404 and no cart is made', async () => {
      const customer = newCustomer();
      const unknown = randomUUID();

      const { status, body } = await api.post('/carts', {
        customer,
        tickets: [
          { ticketTypeId: jazzStanding.id, quantity: 1 },
          { ticketTypeId: unknown, quantity: 1 },
        ],
      });

      expect(status).toBe(404);
      expect(body.error).toMatchObject({ code: 'ticket_type_not_found', message: `no ticket type ${unknown}` });
      expect(body.error.details).toEqual([expect.objectContaining({ field: 'body.tickets.1.ticketTypeId' })]);
      expect(await cartsOf(customer.email)).toBe(0);
    });

    it('When one type is named for more than 1000 tickets in all, then it answers 409 quantity_limit and no cart is made', async () => {
      const customer = newCustomer();
      const tickets = Array.from({ length: 11 }, () => ({ ticketTypeId: matineeStudent.id, quantity: 100 }));

      const { status, body } = await api.post('/carts', { customer, tickets });

      expect(status).toBe(409);
      expect(body.error.code).toBe('quantity_limit');
      expect(body.error.details).toEqual([expect.objectContaining({ field: 'body.tickets.10.quantity' })]);
      expect(await cartsOf(customer.email)).toBe(0);
    });

    it.each([
      ['no entry', [], 'body.tickets'],
      [
        '21 entries',
        Array.from({ length: 21 }, () => ({ ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 1 })),
        'body.tickets',
      ],
      ['an entry without a quantity', [{ ticketTypeId: TICKET_TYPES.jazzStanding.id }], 'body.tickets.0.quantity'],
      ['a ticket type that is not a UUID', [{ ticketTypeId: 'x', quantity: 1 }], 'body.tickets.0.ticketTypeId'],
    ])('When tickets hold %s, then it answers 400 naming %s', async (_case, tickets, field) => {
      const { status, body } = await api.post('/carts', { customer: newCustomer(), tickets });

      expect(status).toBe(400);
      expect(body.error.details.map((detail: any) => detail.field)).toEqual([field]);
    });
  });

  describe('checkout', () => {
    it('When a cart with tickets is checked out, then it answers 201 with the order, total and tracking id', async () => {
      const { cartId } = await api.createCart();
      await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 3);

      const { status, body } = await api.checkout(cartId);

      expect(status).toBe(201);
      expect(body).toEqual({
        orderId: expect.any(String),
        cartId,
        total: { amountMinor: 3 * 4500, currency: 'EUR' },
        notification: { trackingId: expect.any(String) },
      });
      expect((await api.get(`/carts/${cartId}`)).body.status).toBe('checked_out');
    });

    it('When the cart is empty, then checkout answers 409', async () => {
      const { cartId } = await api.createCart();

      const { status, body } = await api.checkout(cartId);

      expect(status).toBe(409);
      expect(body.error.code).toBe('cart_empty');
    });

    it('When the cart is already checked out, then checkout and adding tickets answer 409', async () => {
      const { cartId } = await api.createCart();
      await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);
      await api.checkout(cartId);

      const again = await api.checkout(cartId);
      const adding = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

      expect([again.status, adding.status]).toEqual([409, 409]);
      expect(again.body.error.code).toBe('cart_checked_out');
    });

    it('When two checkouts of one cart race, then exactly one order is made', async () => {
      const { cartId } = await api.createCart();
      await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

      const responses = await Promise.all([api.checkout(cartId), api.checkout(cartId)]);

      expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
    });
  });
});
