import { randomUUID } from 'node:crypto';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  drainQueue,
  newCustomer,
  openPool,
  outboxRowsForCart,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

describe('ticketing API: Idempotency-Key', () => {
  const prefix = uniquePrefix('ticketing');
  let service: TicketingService;
  let api: ApiClient;
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'idempotency');
    service = await startService(testConfig(prefix));
    api = apiClient(service);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
  });

  const keyed = () => ({ 'Idempotency-Key': `test-${randomUUID()}` });

  it('When an add is replayed with the same key and body, then it answers the same and publishes nothing new', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();
    const first = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 2, headers);

    const replay = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 2, headers);

    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.get(`/carts/${cartId}`)).body.lines[0].quantity).toBe(2);
    expect(await outboxRowsForCart(pool, cartId)).toEqual([{ trackingId: first.body.notification.trackingId }]);
    const trackingId = first.body.notification.trackingId;
    const delivered = await collectMessages(broker.channel, queue, [trackingId]);
    await waitUntilPublished(pool, [trackingId]);
    delivered.push(...(await drainQueue(broker.channel, queue)));
    const aboutThisCart = delivered.filter((message) => message.content.toString().includes(cartId));
    expect(aboutThisCart.map((message) => message.properties.messageId)).toEqual([trackingId]);
  });

  it('When a checkout is replayed with the same key, then it answers the same order instead of 409', async () => {
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.jazzBalcony.id, 1);
    const headers = keyed();
    const first = await api.checkout(cartId, headers);

    const replay = await api.checkout(cartId, headers);

    expect(first.status).toBe(201);
    expect(replay).toMatchObject({ status: 201, body: first.body });
    expect((await outboxRowsForCart(pool, cartId)).map((row) => row.trackingId)).toContain(
      first.body.notification.trackingId,
    );
    expect(await outboxRowsForCart(pool, cartId)).toHaveLength(2);
  });

  it('When a cart creation is replayed with the same key, then the same cart comes back', async () => {
    const headers = keyed();
    const customer = newCustomer();
    const first = await api.post('/carts', { customer }, headers);

    const replay = await api.post('/carts', { customer }, headers);

    expect(replay).toMatchObject({ status: 201, body: first.body });
  });

  it('When the same key comes back with the body keys reordered and the path in capitals, then the first answer is replayed', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();
    const first = await api.post(
      `/carts/${cartId}/tickets`,
      { ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 2 },
      headers,
    );

    const replay = await api.post(
      `/Carts/${cartId.toUpperCase()}/tickets/`,
      { quantity: 2, ticketTypeId: TICKET_TYPES.jazzStanding.id },
      headers,
    );

    expect(first.status).toBe(201);
    expect(replay).toMatchObject({ status: 201, body: first.body });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.get(`/carts/${cartId}`)).body.lines[0].quantity).toBe(2);
  });

  it('When the same key comes with another body, then it answers 422 and changes nothing', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();
    await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1, headers);

    const other = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 5, headers);

    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(other.body.error.details).toEqual([expect.objectContaining({ field: 'headers.idempotency-key' })]);
    expect((await api.get(`/carts/${cartId}`)).body.lines[0].quantity).toBe(1);
    expect(await outboxRowsForCart(pool, cartId)).toHaveLength(1);
  });

  it('When the same key comes on another route, then it answers 422', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();
    await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1, headers);

    const other = await api.checkout(cartId, headers);

    expect(other.status).toBe(422);
    expect((await api.get(`/carts/${cartId}`)).body.status).toBe('open');
  });

  it('When two requests with one key race, then one change is made and both get its answer', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();

    const responses = await Promise.all(
      Array.from({ length: 5 }, () => api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1, headers)),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(5).fill(201));
    const trackingIds = new Set(responses.map((response) => response.body.notification.trackingId));
    expect(trackingIds.size).toBe(1);
    expect((await api.get(`/carts/${cartId}`)).body.lines[0].quantity).toBe(1);
    expect(await outboxRowsForCart(pool, cartId)).toHaveLength(1);
  });

  it('When a request fails, then its key is not spent and a corrected retry goes through', async () => {
    const { cartId } = await api.createCart();
    const headers = keyed();
    const empty = await api.checkout(cartId, headers);
    await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

    const retry = await api.checkout(cartId, headers);

    expect([empty.status, retry.status]).toEqual([409, 201]);
  });

  it('When the key is not printable ASCII or too long, then it answers 400 naming the header', async () => {
    const { cartId } = await api.createCart();

    const { status, body } = await api.checkout(cartId, { 'Idempotency-Key': 'k'.repeat(300) });

    expect(status).toBe(400);
    expect(body.error.details).toEqual([{ field: 'headers.idempotency-key', message: expect.any(String) }]);
  });
});
