import { decodeNotification } from '@notify/shared';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  drainQueue,
  openPool,
  outboxRows,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

describe('ticketing outbox: published messages', () => {
  const prefix = uniquePrefix('ticketing');
  const logs = captureLogs('warn');
  const queues: string[] = [];
  let service: TicketingService;
  let api: ApiClient;
  let broker: TestBroker;
  let pool: pg.Pool;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    // Refused rows retry after at most 200 ms here, so that a late binding shows up quickly.
    service = await startService(testConfig(prefix), logs.log, { retryMaxDelayMs: 200 });
    api = apiClient(service);
  });

  afterEach(async () => {
    for (const queue of queues.splice(0)) await broker.channel.deleteQueue(queue);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix);
  });

  async function ownQueue(label: string): Promise<string> {
    const queue = await bindTestQueue(broker.channel, prefix, label);
    queues.push(queue);
    return queue;
  }

  /** Waits for the message, then for its row to be marked published: after that no copy can follow. */
  async function onlyMessageFor(queue: string, trackingId: string) {
    const first = await collectMessages(broker.channel, queue, [trackingId]);
    await waitUntilPublished(pool, [trackingId]);
    const all = [...first, ...(await drainQueue(broker.channel, queue))];
    const matching = all.filter((message) => message.properties.messageId === trackingId);
    expect(matching).toHaveLength(1);
    return matching[0]!;
  }

  it('When a ticket is added, then one ticket.added_to_checkout message describes the cart', async () => {
    const queue = await ownQueue('added');
    const { cartId, customer } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.jazzBalcony.id, 1);

    const { body } = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 2);

    const delivered = await onlyMessageFor(queue, body.notification.trackingId);
    expect(delivered.fields.routingKey).toBe('ticket.added_to_checkout');
    expect(delivered.properties).toMatchObject({
      messageId: body.notification.trackingId,
      type: 'ticket.added_to_checkout',
      contentType: 'application/json',
      deliveryMode: 2,
      appId: 'ticketing-service',
    });
    const decoded = decodeNotification(delivered);
    if (!decoded.ok) throw decoded.error;
    expect(decoded.message).toMatchObject({
      trackingId: body.notification.trackingId,
      operation: 'ticket.added_to_checkout',
      recipient: customer,
      content: {
        cartId,
        total: { amountMinor: 6500 + 2 * 4500, currency: 'EUR' },
        lines: [
          {
            eventName: 'Spring Jazz Night',
            ticketType: 'Balcony seat',
            quantity: 1,
            unitPrice: { amountMinor: 6500, currency: 'EUR' },
          },
          {
            eventName: 'Spring Jazz Night',
            ticketType: 'Standing',
            quantity: 2,
            unitPrice: { amountMinor: 4500, currency: 'EUR' },
          },
        ],
      },
    });
  });

  it('When a cart is created with tickets, then one ticket.added_to_checkout message describes the whole cart', async () => {
    const queue = await ownQueue('created');
    const customer = { email: `created-${Date.now()}@example.com`, name: 'Grace Hopper' };

    const { status, body } = await api.post('/carts', {
      customer,
      tickets: [
        { ticketTypeId: TICKET_TYPES.matineeStudent.id, quantity: 3 },
        { ticketTypeId: TICKET_TYPES.jazzStanding.id, quantity: 1 },
      ],
    });

    expect(status).toBe(201);
    const decoded = decodeNotification(await onlyMessageFor(queue, body.notification.trackingId));
    if (!decoded.ok) throw decoded.error;
    expect(decoded.message).toMatchObject({
      operation: 'ticket.added_to_checkout',
      recipient: customer,
      content: { cartId: body.cartId, total: { amountMinor: 3 * 1500 + 4500, currency: 'EUR' } },
    });
    expect(decoded.message.content.lines.map((line) => [line.ticketType, line.quantity])).toEqual(
      body.lines.map((line: { ticketType: string; quantity: number }) => [line.ticketType, line.quantity]),
    );
    expect(await drainQueue(broker.channel, queue)).toEqual([]);
  });

  it('When a cart is checked out, then one checkout.completed message carries the order and total', async () => {
    const queue = await ownQueue('completed');
    const { cartId, customer } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 3);

    const { body } = await api.checkout(cartId);

    const delivered = await onlyMessageFor(queue, body.notification.trackingId);
    expect(delivered.fields.routingKey).toBe('checkout.completed');
    expect(delivered.properties).toMatchObject({ type: 'checkout.completed', deliveryMode: 2 });
    const decoded = decodeNotification(delivered);
    if (!decoded.ok) throw decoded.error;
    expect(decoded.message).toMatchObject({
      operation: 'checkout.completed',
      recipient: customer,
      content: {
        cartId,
        orderId: body.orderId,
        total: { amountMinor: 4500, currency: 'EUR' },
        lines: [{ eventName: 'Chamber Music Matinee', ticketType: 'Student', quantity: 3 }],
      },
    });
  });

  it('When eight requests add to one cart at once, then all are taken and each message shows the cart after its own change', async () => {
    const queue = await ownQueue('concurrent');
    const { cartId } = await api.createCart();

    const answers = await Promise.all(
      Array.from({ length: 8 }, () => api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1)),
    );

    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    const trackingIds = answers.map((answer) => answer.body.notification.trackingId as string);
    const delivered = await collectMessages(broker.channel, queue, trackingIds);
    const quantities = delivered.map((message) => {
      const decoded = decodeNotification(message);
      if (!decoded.ok) throw decoded.error;
      return decoded.message.content.lines[0]?.quantity;
    });
    expect(quantities.sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await api.get(`/carts/${cartId}`)).body.lines[0].quantity).toBe(8);
  });

  it('When creating a cart or failing a request, then nothing is published for it', async () => {
    const queue = await ownQueue('quiet');
    const { cartId } = await api.createCart();
    await api.checkout(cartId); // 409: empty

    const { body } = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);

    const delivered = await onlyMessageFor(queue, body.notification.trackingId);
    expect(delivered.fields.routingKey).toBe('ticket.added_to_checkout');
    expect(await drainQueue(broker.channel, queue)).toEqual([]);
  });

  it('When no queue is bound, then the returned message stays pending, is logged, and goes out once one is', async () => {
    const { cartId } = await api.createCart();
    const { body } = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1);
    const { trackingId } = body.notification;

    const [refused] = await waitFor(
      async () => {
        const rows = await outboxRows(pool, [trackingId]);
        return rows[0] && rows[0].attempts > 0 ? rows : undefined;
      },
      { what: 'a refused publish attempt' },
    );
    expect(refused).toMatchObject({ publishedAt: null, lastError: 'returned: 312 NO_ROUTE' });
    expect(logs.find('broker refused a notification; it stays pending')).toContainEqual(
      expect.objectContaining({ trackingId, routingKey: 'ticket.added_to_checkout' }),
    );

    const queue = await ownQueue('late');
    await onlyMessageFor(queue, trackingId);
  });
});
