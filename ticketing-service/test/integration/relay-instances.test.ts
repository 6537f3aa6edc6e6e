import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { waitFor } from '@notify/test-support/wait.js';
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
  openPool,
  outboxRows,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

describe('ticketing outbox: several relay instances', () => {
  const prefix = uniquePrefix('ticketing');
  const otherPrefix = uniquePrefix('ticketing-other');
  const services: TicketingService[] = [];
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'instances');
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
    await deleteTestTopology(otherPrefix);
  });

  async function start(topologyPrefix: string): Promise<TicketingService> {
    // Small batches, so that the two relays take turns over the same rows many times.
    const service = await startService(testConfig(topologyPrefix, { OUTBOX_BATCH_SIZE: '5' }));
    services.push(service);
    return service;
  }

  async function addTicketsThrough(apis: ApiClient[], count: number): Promise<string[]> {
    const carts = await Promise.all(
      Array.from({ length: count }, (_, index) => apis[index % apis.length]!.createCart()),
    );
    const added = await Promise.all(
      carts.map(({ cartId }, index) => apis[index % apis.length]!.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1)),
    );
    expect(added.every((response) => response.status === 201)).toBe(true);
    return added.map((response) => response.body.notification.trackingId);
  }

  it('When two relays share one outbox, then each row is published once', async () => {
    const apis = [apiClient(await start(prefix)), apiClient(await start(prefix))];

    const trackingIds = await addTicketsThrough(apis, 60);

    const delivered = await collectMessages(broker.channel, queue, trackingIds);
    await waitUntilPublished(pool, trackingIds);
    delivered.push(...(await drainQueue(broker.channel, queue)));
    const copies = new Map<string, number>();
    for (const message of delivered) {
      const id = message.properties.messageId as string;
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    expect(trackingIds.map((id) => copies.get(id))).toEqual(trackingIds.map(() => 1));
  });

  it('When a relay targets another exchange, then it leaves rows addressed to this one alone', async () => {
    const [mine] = services;
    const other = await start(otherPrefix);
    await Promise.all(services.filter((service) => service !== other).map((service) => service.relay.stop()));
    const [trackingId] = await addTicketsThrough([apiClient(mine!)], 1);
    // Otherwise the batch below would claim nothing merely for want of a channel.
    await waitFor(async () => ((await apiClient(other).get('/readyz')).body.broker === 'up' ? true : undefined), {
      what: 'the other service to reach the broker',
    });

    const batch = await other.relay.relayBatch();

    expect(batch.claimed).toBe(0);
    expect(await outboxRows(pool, [trackingId!])).toEqual([
      expect.objectContaining({ publishedAt: null, attempts: 0 }),
    ]);
  });
});
