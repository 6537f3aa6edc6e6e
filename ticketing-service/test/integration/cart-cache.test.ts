import { randomUUID } from 'node:crypto';
import { AppError, createInFlight, createPool, newTraceContext } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { addTicketToCart } from '../../src/domain/add-ticket-to-cart.js';
import { type CartCacheOutcome, createCartCache } from '../../src/domain/cart-cache.js';
import { gatheredCartWrites } from '../../src/domain/cart-writes.js';
import { checkoutCart } from '../../src/domain/checkout-cart.js';
import { createCart, type TicketRequest } from '../../src/domain/create-cart.js';
import { getCart } from '../../src/domain/load-cart.js';
import type { CommandContext } from '../../src/domain/notifications.js';
import { runCommand } from '../../src/domain/run-command.js';
import { ownDatabase, TICKET_TYPES } from '../support/harness.js';

const database = ownDatabase('cart_cache');
let pool: pg.Pool;

beforeAll(async () => {
  pool = createPool({ url: await database.create(), applicationName: 'cart-cache-test' }, silentLogger);
});

afterAll(async () => {
  await pool?.end();
  await database.drop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** One ticketing instance, as far as commands go: its own memory of carts, the shared database. */
function instance(maxCarts = 100) {
  const outcomes: CartCacheOutcome[] = [];
  const carts = createCartCache(maxCarts, (outcome) => outcomes.push(outcome));
  const writes = gatheredCartWrites(pool, { maxPerStatement: 16, statementsInFlight: 2 });
  const deps = { pool, writes, outbox: { exchange: 'cart-cache-test', appId: 'test' }, carts, onCommitted: () => {} };
  const run = <T>(work: (context: CommandContext) => Promise<T>, idempotencyKey?: string) =>
    runCommand(
      { ...deps, idempotencyKeyTtlHours: 24, inFlight: createInFlight() },
      {
        idempotency: idempotencyKey ? { key: idempotencyKey, fingerprint: 'f' } : undefined,
        trace: newTraceContext(),
      },
      async (context) => ({ status: 201, body: await work(context) }),
    ).then((outcome) => outcome.body as T);
  return {
    /** Where each command on a cart started, in order. */
    outcomes,
    createCart: (tickets?: TicketRequest[]) =>
      run((context) => createCart(context, { email: 'ada@example.com', name: 'Ada' }, tickets)),
    addTicket: (cartId: string, ticketTypeId: string, quantity = 1, idempotencyKey?: string) =>
      run((context) => addTicketToCart(context, cartId, { ticketTypeId, quantity }), idempotencyKey),
    checkout: (cartId: string) => run((context) => checkoutCart(context, cartId)),
    run,
  };
}

/** The statements this process sends to PostgreSQL while `work` runs, by name (or text, unnamed). */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const query = vi.spyOn(pg.Client.prototype, 'query');
  try {
    await work();
    return query.mock.calls.map(([statement]) =>
      typeof statement === 'string' ? statement : ((statement as { name?: string; text: string }).name ?? ''),
    );
  } finally {
    query.mockRestore();
  }
}

const { jazzStanding, jazzBalcony } = TICKET_TYPES;

describe('Given a cart that this instance wrote last', () => {
  it('When tickets are added and the cart checked out, then each command is one statement, and answers as a read would', async () => {
    const api = instance();
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, jazzStanding.id);

    let added: Awaited<ReturnType<typeof api.addTicket>> | undefined;
    expect(await statementsOf(async () => (added = await api.addTicket(cartId, jazzStanding.id, 2)))).toEqual([
      'ticketing.add-cart-item',
    ]);
    const stored = await getCart(pool, cartId);
    expect(added).toMatchObject({ lines: stored.lines, total: stored.total });
    expect(stored.lines).toEqual([expect.objectContaining({ ticketTypeId: jazzStanding.id, quantity: 3 })]);

    expect(await statementsOf(() => api.checkout(cartId))).toEqual(['ticketing.place-order']);
    // The first add read the ticket type, which the instance had not seen.
    expect(api.outcomes).toEqual(['miss', 'hit', 'hit']);
  });

  it('When the memory is off (CART_CACHE_MAX_CARTS=0), then every command reads its cart before it writes', async () => {
    const api = instance(0);
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, jazzStanding.id);
    expect(await statementsOf(() => api.addTicket(cartId, jazzStanding.id))).toEqual([
      'ticketing.find-cart-with-ticket-type',
      'ticketing.add-cart-item',
    ]);
    expect(await statementsOf(() => api.checkout(cartId))).toEqual([
      'ticketing.find-cart-with-items',
      'ticketing.place-order',
    ]);
    expect(api.outcomes).toEqual(['miss', 'miss', 'miss']);
  });
});

describe('Given a cart that another instance changed since this one wrote it', () => {
  it('When this instance adds to it, then its stale memory costs one failed write and the answer shows both changes', async () => {
    const first = instance();
    const second = instance();
    const { cartId } = await first.createCart();
    await first.addTicket(cartId, jazzStanding.id);
    await second.addTicket(cartId, jazzBalcony.id);

    let added: Awaited<ReturnType<typeof first.addTicket>> | undefined;
    expect(await statementsOf(async () => (added = await first.addTicket(cartId, jazzStanding.id)))).toEqual([
      'ticketing.add-cart-item',
      'ticketing.find-cart-with-ticket-type',
      'ticketing.add-cart-item',
    ]);
    const stored = await getCart(pool, cartId);
    expect(added?.lines).toEqual(stored.lines);
    expect(stored.lines.map((line) => [line.ticketTypeId, line.quantity])).toEqual([
      [jazzStanding.id, 2],
      [jazzBalcony.id, 1],
    ]);
    expect(first.outcomes).toEqual(['miss', 'stale']);
  });

  it('When this instance remembers it empty and checks it out, then the refusal its memory would give is decided again from a read', async () => {
    const first = instance();
    const second = instance();
    const { cartId } = await first.createCart();
    await second.addTicket(cartId, jazzStanding.id);

    const order = await first.checkout(cartId);
    expect(order.total).toEqual({ amountMinor: jazzStanding.priceMinor, currency: 'EUR' });
  });

  it('When the other instance checked it out, then adding to it answers 409 cart_checked_out and writes nothing', async () => {
    const first = instance();
    const second = instance();
    const { cartId } = await first.createCart();
    await first.addTicket(cartId, jazzStanding.id);
    await second.checkout(cartId);

    await expect(first.addTicket(cartId, jazzStanding.id)).rejects.toMatchObject({ code: 'cart_checked_out' });
    expect((await getCart(pool, cartId)).lines).toEqual([expect.objectContaining({ quantity: 1 })]);
  });
});

describe('Given a command whose transaction is rolled back', () => {
  it('When another instance then changes the cart to the version the rolled-back write would have made, then this instance does not take its memory for it', async () => {
    const first = instance();
    const second = instance();
    const { cartId } = await first.createCart();

    // An Idempotency-Key puts the command in a transaction; the work fails after the write, so it rolls back.
    const failed = first.run(async (context) => {
      await addTicketToCart(context, cartId, { ticketTypeId: jazzStanding.id, quantity: 1 });
      throw new AppError(500, 'test_failure', 'after the write');
    }, `rollback-${randomUUID()}`);
    await expect(failed).rejects.toMatchObject({ code: 'test_failure' });
    await second.addTicket(cartId, jazzBalcony.id);

    // The same ticket type as the rolled-back write, which this instance read then and remembers.
    const added = await first.addTicket(cartId, jazzStanding.id);
    const stored = await getCart(pool, cartId);
    expect(added.lines).toEqual(stored.lines);
    expect(stored.lines.map((line) => [line.ticketTypeId, line.quantity])).toEqual([
      [jazzBalcony.id, 1],
      [jazzStanding.id, 1],
    ]);
  });
});

describe('Given a ticket type whose price changed while this instance remembered it', () => {
  it('When a ticket of that type is added, then the line takes the price the catalog has now', async () => {
    const api = instance();
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, jazzStanding.id);
    const newPrice = jazzStanding.priceMinor + 500;
    await pool.query('UPDATE ticketing.ticket_types SET price_minor = $2 WHERE id = $1', [jazzStanding.id, newPrice]);
    try {
      const added = await api.addTicket(cartId, jazzStanding.id);
      expect(added.lines).toEqual([
        expect.objectContaining({ quantity: 2, unitPrice: { amountMinor: newPrice, currency: 'EUR' } }),
      ]);
      expect((await getCart(pool, cartId)).lines).toEqual(added.lines);
    } finally {
      await pool.query('UPDATE ticketing.ticket_types SET price_minor = $2 WHERE id = $1', [
        jazzStanding.id,
        jazzStanding.priceMinor,
      ]);
    }
  });
});

describe('Given a cart created with its first tickets', () => {
  it('When this instance remembers every ticket type, then the cart is one statement, and the next command on it too', async () => {
    const api = instance();
    const { cartId: warmUp } = await api.createCart();
    await api.addTicket(warmUp, jazzStanding.id);
    await api.addTicket(warmUp, jazzBalcony.id);

    let created: Awaited<ReturnType<typeof api.createCart>> | undefined;
    const tickets = [
      { ticketTypeId: jazzStanding.id, quantity: 2 },
      { ticketTypeId: jazzBalcony.id, quantity: 1 },
    ];
    expect(await statementsOf(async () => (created = await api.createCart(tickets)))).toEqual([
      'ticketing.insert-cart-with-lines',
    ]);
    const cartId = created?.cartId ?? '';
    expect(created).toMatchObject(await getCart(pool, cartId));
    expect(await statementsOf(() => api.checkout(cartId))).toEqual(['ticketing.place-order']);
  });

  it('When this instance has not seen a ticket type, then it reads the types once before it writes', async () => {
    const api = instance();

    const statements = await statementsOf(() => api.createCart([{ ticketTypeId: jazzStanding.id, quantity: 1 }]));

    expect(statements).toEqual(['ticketing.find-ticket-types', 'ticketing.insert-cart-with-lines']);
    expect(api.outcomes).toEqual(['miss']);
  });

  it('When a remembered price changed, then the stale memory costs one failed write and the line takes the price the catalog has now', async () => {
    const api = instance();
    const { cartId: warmUp } = await api.createCart();
    await api.addTicket(warmUp, jazzStanding.id);
    const newPrice = jazzStanding.priceMinor + 700;
    await pool.query('UPDATE ticketing.ticket_types SET price_minor = $2 WHERE id = $1', [jazzStanding.id, newPrice]);
    try {
      let created: Awaited<ReturnType<typeof api.createCart>> | undefined;
      const statements = await statementsOf(
        async () => (created = await api.createCart([{ ticketTypeId: jazzStanding.id, quantity: 3 }])),
      );

      expect(statements).toEqual([
        'ticketing.insert-cart-with-lines',
        'ticketing.find-ticket-types',
        'ticketing.insert-cart-with-lines',
      ]);
      expect(created?.total).toEqual({ amountMinor: 3 * newPrice, currency: 'EUR' });
      expect((await getCart(pool, created?.cartId ?? '')).lines).toEqual(created?.lines);
      expect(api.outcomes).toEqual(['miss', 'stale']);
    } finally {
      await pool.query('UPDATE ticketing.ticket_types SET price_minor = $2 WHERE id = $1', [
        jazzStanding.id,
        jazzStanding.priceMinor,
      ]);
    }
  });

  it('When its tickets are priced in another currency, then the cart takes theirs; in two currencies, it answers 409 and writes nothing', async () => {
    const ticketTypeId = randomUUID();
    await pool.query(
      `INSERT INTO ticketing.ticket_types (id, event_id, name, price_minor, currency)
       SELECT $1, event_id, $2, 5000, 'USD' FROM ticketing.ticket_types WHERE id = $3`,
      [ticketTypeId, `US tour ${ticketTypeId}`, jazzStanding.id],
    );
    const api = instance();

    const inDollars = await api.createCart([{ ticketTypeId, quantity: 2 }]);
    const mixed = [
      { ticketTypeId, quantity: 1 },
      { ticketTypeId: jazzStanding.id, quantity: 1 },
    ];

    expect(inDollars.total).toEqual({ amountMinor: 10_000, currency: 'USD' });
    expect((await getCart(pool, inDollars.cartId)).total).toEqual(inDollars.total);
    await expect(api.createCart(mixed)).rejects.toMatchObject({
      status: 409,
      code: 'currency_mismatch',
      details: [expect.objectContaining({ field: 'body.tickets.1.ticketTypeId' })],
    });
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM ticketing.cart_items WHERE ticket_type_id = $1', [
      ticketTypeId,
    ]);
    expect(rows[0].n).toBe(1);
  });
});
