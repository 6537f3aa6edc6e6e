import { randomUUID } from 'node:crypto';
import { encodeNotification } from '@notify/shared';
import { uniquePrefix } from '@notify/test-support/broker.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCartItems, insertCarts, insertCartsWithLines, placeOrders } from '../../src/db/gathered-writes.js';
import type { OutboxInsert } from '../../src/db/outbox-repository.js';
import { gatheredCartWrites } from '../../src/domain/cart-writes.js';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  deleteTestTopology,
  lockCarts,
  newCustomer,
  ownDatabase,
  startService,
  TICKET_TYPES,
  testConfig,
} from '../support/harness.js';

const STANDING = TICKET_TYPES.jazzStanding;

describe('ticketing API: concurrent commands written together', () => {
  const prefix = uniquePrefix('ticketing-gathered');
  const database = ownDatabase('gathered');
  let url: string;
  let db: pg.Client;
  let service: TicketingService;
  let api: ApiClient;

  beforeAll(async () => {
    url = await database.create();
    db = new pg.Client({ connectionString: url });
    await db.connect();
    service = await startService(testConfig(prefix, { DATABASE_URL: url }));
    api = apiClient(service);
  });
  afterAll(async () => {
    await service?.stop();
    await db?.end();
    await deleteTestTopology(prefix);
    await database.drop();
  });

  function notification(): OutboxInsert {
    return { exchange: 'gathered-test', encoded: encodeNotification(buildMessage(), 'test') };
  }

  async function newCarts(count: number): Promise<string[]> {
    const rows = await insertCarts(
      db,
      Array.from({ length: count }, () => ({
        cartId: randomUUID(),
        customerEmail: 'gathered@example.com',
        customerName: 'Gathered',
      })),
    );
    return rows.map((row) => row.cartId);
  }

  /** Commands per statement so far, by kind, from the service's histogram: [statements, commands]. */
  async function statementsOf(kind: string): Promise<[number, number]> {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const value = (suffix: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`notify_api_write_statement_commands_${suffix}{kind="${kind}"}`))
          ?.split(' ')[1] ?? 0,
      );
    return [value('count'), value('sum')];
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    return Number(
      text
        .split('\n')
        .find((line) => line.startsWith(`${name} `))
        ?.split(' ')[1],
    );
  }

  /**
   * Holds the carts table while `send` starts its requests of one kind, until each of them is in
   * a statement (counted as it starts, then held by the lock) or waits for one; then lets them
   * all through.
   */
  async function sentTogether<T>(kind: string, send: () => Promise<T>[]): Promise<T[]> {
    const [, startedBefore] = await statementsOf(kind);
    const carts = await lockCarts(url);
    try {
      const requests = send();
      await carts.waitForWaiters(1);
      await waitFor(
        async () => {
          const [, started] = await statementsOf(kind);
          const waiting = await metric('notify_api_requests_waiting_for_database');
          return started - startedBefore + waiting >= requests.length ? true : undefined;
        },
        { timeoutMs: 3_000, what: 'every request in a statement or waiting for one' },
      );
      await carts.release();
      return await Promise.all(requests);
    } finally {
      await carts.close();
    }
  }

  it('When one statement adds lines to carts of which one changed since it was read, then only that cart is left unwritten, with no notification', async () => {
    const carts = await newCarts(3);
    const stale = carts[1] as string;
    await db.query('UPDATE ticketing.carts SET version = 5 WHERE id = $1', [stale]);
    const lines = carts.map((cartId) => ({
      cartId,
      cartVersion: 0,
      ticketTypeId: STANDING.id,
      quantity: 1,
      unitPriceMinor: STANDING.priceMinor,
      currency: 'EUR',
      notification: notification(),
    }));

    const written = await addCartItems(db, lines, 10);

    expect([...written].sort()).toEqual([carts[0], carts[2]].sort());
    const { rows } = await db.query(
      `SELECT c.id, c.version, count(i.cart_id)::int AS lines
         FROM ticketing.carts c LEFT JOIN ticketing.cart_items i ON i.cart_id = c.id
        WHERE c.id = ANY($1::uuid[]) GROUP BY c.id, c.version`,
      [carts],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, [row.version, row.lines]]))).toEqual({
      [carts[0] as string]: [1, 1],
      [stale]: [5, 0],
      [carts[2] as string]: [1, 1],
    });
    const outbox = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      lines.map((line) => line.notification.encoded.properties.messageId),
    ]);
    expect(outbox.rowCount).toBe(2);
  });

  it('When one statement places orders for carts of which one is checked out already, then only the open ones become orders', async () => {
    const carts = await newCarts(3);
    const closed = carts[2] as string;
    await db.query(`UPDATE ticketing.carts SET status = 'checked_out' WHERE id = $1`, [closed]);

    const written = await placeOrders(
      db,
      carts.map((cartId) => ({
        orderId: randomUUID(),
        cartId,
        cartVersion: 0,
        totalMinor: 4_500,
        currency: 'EUR',
        notification: notification(),
      })),
    );

    expect([...written].sort()).toEqual([carts[0], carts[1]].sort());
    const orders = await db.query('SELECT cart_id FROM ticketing.orders WHERE cart_id = ANY($1::uuid[])', [carts]);
    expect(orders.rows.map((row) => row.cart_id).sort()).toEqual([carts[0], carts[1]].sort());
  });

  it('When one statement creates carts with their tickets and one ticket type changed its price since it was read, then only that cart is left unwritten', async () => {
    const carts = [randomUUID(), randomUUID(), randomUUID()];
    const standing = { ticketTypeId: STANDING.id, quantity: 2, unitPriceMinor: STANDING.priceMinor };
    const balcony = {
      ticketTypeId: TICKET_TYPES.jazzBalcony.id,
      quantity: 1,
      unitPriceMinor: TICKET_TYPES.jazzBalcony.priceMinor,
    };
    const input = carts.map((cartId, index) => ({
      cartId,
      customerEmail: 'gathered@example.com',
      customerName: 'Gathered',
      currency: 'EUR',
      // The second cart's balcony line at a price the catalog no longer has.
      lines: index === 1 ? [standing, { ...balcony, unitPriceMinor: balcony.unitPriceMinor - 1 }] : [standing, balcony],
      notification: notification(),
    }));

    const rows = await insertCartsWithLines(db, input);

    expect(rows.map((row) => row.cartId).sort()).toEqual([carts[0], carts[2]].sort());
    const items = await db.query(
      'SELECT cart_id, count(*)::int AS lines FROM ticketing.cart_items WHERE cart_id = ANY($1::uuid[]) GROUP BY cart_id',
      [carts],
    );
    expect(Object.fromEntries(items.rows.map((row) => [row.cart_id, row.lines]))).toEqual({
      [carts[0] as string]: 2,
      [carts[2] as string]: 2,
    });
    const outbox = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      input.map((cart) => cart.notification.encoded.properties.messageId),
    ]);
    expect(outbox.rowCount).toBe(2);
    const unwritten = await db.query('SELECT 1 FROM ticketing.carts WHERE id = $1', [carts[1]]);
    expect(unwritten.rowCount).toBe(0);
  });

  it('When a statement of several fails on one cart, then each of its commands is written alone and only that one fails', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => undefined);
    const seen: string[] = [];
    const writes = gatheredCartWrites(pool, {
      maxPerStatement: 16,
      statementsInFlight: 1,
      observer: {
        statement: (kind, commands) => seen.push(`${kind} ${commands}`),
        failed: (kind) => seen.push(`${kind} failed`),
      },
    });
    try {
      const [taken] = await newCarts(1);
      const cart = (cartId: string) => ({ cartId, customerEmail: 'gathered@example.com', customerName: 'Gathered' });
      const fresh = [randomUUID(), randomUUID()];

      // Submitted in one turn: one statement for the three, which the taken id makes fail.
      const outcomes = await Promise.allSettled([
        writes.insertCart(cart(fresh[0] as string)),
        writes.insertCart(cart(taken as string)),
        writes.insertCart(cart(fresh[1] as string)),
      ]);

      expect(
        outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.cartId : outcome.status)),
      ).toEqual([fresh[0], 'rejected', fresh[1]]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect(seen).toEqual(['insertCart 3', 'insertCart failed', 'insertCart 1', 'insertCart 1', 'insertCart 1']);
      const { rows } = await db.query('SELECT id FROM ticketing.carts WHERE id = ANY($1::uuid[])', [fresh]);
      expect(rows).toHaveLength(2);
    } finally {
      await pool.end();
    }
  });

  it('When many checkouts add tickets at once, then their writes share statements, and each cart gets its line, its version and one notification', async () => {
    const created = await Promise.all(Array.from({ length: 8 }, () => api.createCart()));
    // So that the instance remembers the ticket type, and each command goes straight to its write.
    expect((await api.addTicket((await api.createCart()).cartId, STANDING.id, 1)).status).toBe(201);
    const [first, second, ...others] = created.map((cart) => cart.cartId);
    // Another instance's write: this one's memory of the cart is now stale, and the statement must leave it unwritten.
    await db.query('UPDATE ticketing.carts SET version = version + 1 WHERE id = $1', [others[0]]);
    const [statementsBefore, commandsBefore] = await statementsOf('addCartItem');

    const answers = await sentTogether('addCartItem', () => [
      api.addTicket(first as string, STANDING.id, 1),
      api.addTicket(second as string, STANDING.id, 1),
      ...others.map((cartId) => api.addTicket(cartId, STANDING.id, 2)),
      // A second command on one cart waits for a later statement than the first's.
      api.addTicket(others[1] as string, STANDING.id, 3),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 201));
    const [statements, commands] = await statementsOf('addCartItem');
    // Each command once, and two again after their first write found another version: the stale
    // cart's, and the second command on one cart (both of its commands started from the version it had).
    expect(commands - commandsBefore).toBe(answers.length + 2);
    // Up to two statements held by the lock, then one for all that waited meanwhile, one more for
    // the second command on a cart if it waited behind the first, and the two written again: at
    // most 6 statements where each command alone took 11.
    expect(statements - statementsBefore).toBeLessThanOrEqual(6);
    const { rows } = await db.query(
      `SELECT c.id, c.version, i.quantity FROM ticketing.carts c JOIN ticketing.cart_items i ON i.cart_id = c.id
        WHERE c.id = ANY($1::uuid[])`,
      [[first, second, ...others]],
    );
    const byCart = Object.fromEntries(rows.map((row) => [row.id, [row.version, row.quantity]]));
    expect(byCart).toEqual({
      [first as string]: [1, 1],
      [second as string]: [1, 1],
      [others[0] as string]: [2, 2],
      [others[1] as string]: [2, 5],
      ...Object.fromEntries(others.slice(2).map((cartId) => [cartId, [1, 2]])),
    });
    const trackingIds = answers.map((answer) => answer.body.notification.trackingId);
    const outbox = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      trackingIds,
    ]);
    expect(outbox.rowCount).toBe(answers.length);
  });

  it('When many carts check out at once, then their orders share statements, and each cart becomes one order with one notification', async () => {
    const carts = await Promise.all(Array.from({ length: 6 }, () => api.createCart()));
    for (const cart of carts) expect((await api.addTicket(cart.cartId, STANDING.id, 1)).status).toBe(201);
    const [statementsBefore, commandsBefore] = await statementsOf('placeOrder');

    const answers = await sentTogether('placeOrder', () =>
      carts.map((cart) => api.post(`/carts/${cart.cartId}/checkout`)),
    );

    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 201));
    const [statements, commands] = await statementsOf('placeOrder');
    // Up to two statements held by the lock, then one for all that waited meanwhile.
    expect(commands - commandsBefore).toBe(6);
    expect(statements - statementsBefore).toBeLessThanOrEqual(3);
    const orders = await db.query('SELECT id, cart_id FROM ticketing.orders WHERE cart_id = ANY($1::uuid[])', [
      carts.map((cart) => cart.cartId),
    ]);
    expect(Object.fromEntries(orders.rows.map((row) => [row.cart_id, row.id]))).toEqual(
      Object.fromEntries(answers.map((answer) => [answer.body.cartId, answer.body.orderId])),
    );
    const outbox = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      answers.map((answer) => answer.body.notification.trackingId),
    ]);
    expect(outbox.rowCount).toBe(carts.length);
  });

  it('When commands name their carts in capitals and are written together, then each is written once and answered as written', async () => {
    const carts = await Promise.all(Array.from({ length: 6 }, () => api.createCart()));
    const inCapitals = carts.map((cart) => cart.cartId.toUpperCase());
    // So that the instance remembers the ticket type, and each command goes straight to its write.
    expect((await api.addTicket((await api.createCart()).cartId, STANDING.id, 1)).status).toBe(201);

    const added = await sentTogether('addCartItem', () =>
      inCapitals.map((cartId) => api.addTicket(cartId, STANDING.id, 2)),
    );
    const checkedOut = await sentTogether('placeOrder', () =>
      inCapitals.map((cartId) => api.post(`/carts/${cartId}/checkout`)),
    );

    expect(added.map((answer) => [answer.status, answer.body.cartId])).toEqual(carts.map((cart) => [201, cart.cartId]));
    expect(checkedOut.map((answer) => [answer.status, answer.body.cartId])).toEqual(
      carts.map((cart) => [201, cart.cartId]),
    );
    const ids = carts.map((cart) => cart.cartId);
    const lines = await db.query(
      'SELECT c.id, c.version, i.quantity FROM ticketing.carts c JOIN ticketing.cart_items i ON i.cart_id = c.id WHERE c.id = ANY($1::uuid[])',
      [ids],
    );
    // The line as sent, once: a write taken for unwritten would be written again, with a notification of its own.
    expect(Object.fromEntries(lines.rows.map((row) => [row.id, [row.version, row.quantity]]))).toEqual(
      Object.fromEntries(ids.map((cartId) => [cartId, [2, 2]])),
    );
    const outbox = await db.query(
      `SELECT count(*)::int AS notifications FROM ticketing.outbox
        WHERE convert_from(content, 'UTF8')::jsonb -> 'content' ->> 'cartId' = ANY($1::text[])`,
      [ids],
    );
    expect(outbox.rows[0].notifications).toBe(ids.length * 2);
  });

  it('When carts are created with their tickets at once, then they are inserted together, each with its lines and one notification', async () => {
    // So that the instance remembers the ticket type, and each command goes straight to its write.
    expect(
      (await api.post('/carts', { customer: newCustomer(), tickets: [{ ticketTypeId: STANDING.id, quantity: 1 }] }))
        .status,
    ).toBe(201);
    const [statementsBefore, commandsBefore] = await statementsOf('insertCartWithLines');

    const created = await sentTogether('insertCartWithLines', () =>
      Array.from({ length: 6 }, () =>
        api.post('/carts', { customer: newCustomer(), tickets: [{ ticketTypeId: STANDING.id, quantity: 2 }] }),
      ),
    );

    expect(created.map((answer) => answer.status)).toEqual(created.map(() => 201));
    const [statements, commands] = await statementsOf('insertCartWithLines');
    expect(commands - commandsBefore).toBe(6);
    expect(statements - statementsBefore).toBeLessThanOrEqual(3);
    const cartIds = created.map((answer) => answer.body.cartId);
    const { rows } = await db.query(
      'SELECT cart_id, quantity FROM ticketing.cart_items WHERE cart_id = ANY($1::uuid[])',
      [cartIds],
    );
    expect(Object.fromEntries(rows.map((row) => [row.cart_id, row.quantity]))).toEqual(
      Object.fromEntries(cartIds.map((cartId) => [cartId, 2])),
    );
    const outbox = await db.query('SELECT tracking_id FROM ticketing.outbox WHERE tracking_id = ANY($1::uuid[])', [
      created.map((answer) => answer.body.notification.trackingId),
    ]);
    expect(outbox.rowCount).toBe(6);
  });

  it('When new carts come at once, then they are inserted together and each answers its own cart', async () => {
    const [statementsBefore, commandsBefore] = await statementsOf('insertCart');

    const created = await sentTogether('insertCart', () => Array.from({ length: 7 }, () => api.createCart()));

    const [statements, commands] = await statementsOf('insertCart');
    expect(commands - commandsBefore).toBe(7);
    expect(statements - statementsBefore).toBeLessThanOrEqual(3);
    const { rows } = await db.query('SELECT id, customer_email FROM ticketing.carts WHERE id = ANY($1::uuid[])', [
      created.map((cart) => cart.cartId),
    ]);
    expect(Object.fromEntries(rows.map((row) => [row.id, row.customer_email]))).toEqual(
      Object.fromEntries(created.map((cart) => [cart.cartId, cart.customer.email])),
    );
  });
});
