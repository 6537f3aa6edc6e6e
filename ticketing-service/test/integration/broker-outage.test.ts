import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { proxyFor, type TcpProxy } from '@notify/test-support/tcp-proxy.js';
import { waitFor } from '@notify/test-support/wait.js';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  bindTestQueue,
  collectMessages,
  deleteTestTopology,
  openPool,
  outboxRows,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

describe('ticketing outbox: broker outage', () => {
  const prefix = uniquePrefix('ticketing');
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string;
  let proxy: TcpProxy;
  const services: TicketingService[] = [];

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    queue = await bindTestQueue(broker.channel, prefix, 'outage');
  });

  afterEach(async () => {
    for (const service of services.splice(0)) await service.stop();
    await proxy?.close();
  });

  afterAll(async () => {
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, [queue]);
  });

  /** The service reaches RabbitMQ only through a proxy the test can cut: never the broker itself. */
  async function startBehindProxy({ cutFirst = false } = {}): Promise<ApiClient> {
    let proxied: string;
    ({ proxy, url: proxied } = await proxyFor(inject('amqpUrl')));
    if (cutFirst) proxy.cut();
    const service = await startService(testConfig(prefix, { AMQP_URL: proxied }));
    services.push(service);
    return apiClient(service);
  }

  function brokerReported(api: ApiClient, state: 'up' | 'down') {
    return waitFor(
      async () => {
        const { body } = await api.get('/readyz');
        return body.broker === state ? body : undefined;
      },
      { timeoutMs: 15_000, what: `readiness to report the broker ${state}` },
    );
  }

  async function addThenCheckout(api: ApiClient) {
    const { cartId } = await api.createCart();
    const added = await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 2);
    const completed = await api.checkout(cartId);
    return {
      responses: [added, completed],
      trackingIds: [added, completed].map((r) => r.body.notification.trackingId),
    };
  }

  it('When the broker connection is cut, then requests still succeed and the outbox drains once it is back', async () => {
    const api = await startBehindProxy();
    await brokerReported(api, 'up');

    proxy.cut();
    await brokerReported(api, 'down');
    const { responses, trackingIds } = await addThenCheckout(api);

    expect(responses.map((response) => response.status)).toEqual([201, 201]);
    const readiness = await api.get('/readyz');
    expect(readiness).toMatchObject({ status: 200, body: { database: 'up', broker: 'down' } });
    expect((await outboxRows(pool, trackingIds)).map((row) => row.publishedAt)).toEqual([null, null]);

    proxy.restore();

    const delivered = await collectMessages(broker.channel, queue, trackingIds, 25_000);
    expect(delivered.map((message) => message.properties.messageId)).toEqual(expect.arrayContaining(trackingIds));
    await waitUntilPublished(pool, trackingIds);
  });

  it('When the service starts while the broker is unreachable, then it takes orders and publishes them later', async () => {
    const api = await startBehindProxy({ cutFirst: true });

    const { responses, trackingIds } = await addThenCheckout(api);
    expect(responses.map((response) => response.status)).toEqual([201, 201]);
    expect((await api.get('/readyz')).body).toMatchObject({ database: 'up', broker: 'down' });

    proxy.restore();

    await collectMessages(broker.channel, queue, trackingIds, 25_000);
    await waitUntilPublished(pool, trackingIds);
  });

  it('When an instance stops before publishing, then the next instance publishes what it accepted', async () => {
    const first = await startBehindProxy();
    proxy.cut();
    const { trackingIds } = await addThenCheckout(first);
    await services.shift()?.stop();

    const next = await startService(testConfig(prefix));
    services.push(next);

    await collectMessages(broker.channel, queue, trackingIds);
    await waitUntilPublished(pool, trackingIds);
  });
});
