import { createMetricsRegistry } from '@notify/shared/platform';
import { openTestBroker, type TestBroker, uniquePrefix } from '@notify/test-support/broker.js';
import { silentLogger } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOutboxMetrics } from '../../src/metrics/outbox-metrics.js';
import type { TicketingService } from '../../src/service.js';
import {
  type ApiClient,
  apiClient,
  bindTestQueue,
  deleteTestTopology,
  openPool,
  startService,
  TICKET_TYPES,
  testConfig,
  waitUntilPublished,
} from '../support/harness.js';

/** The value of a sample in Prometheus' text format, its labels written as the service writes them. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('ticketing metrics', () => {
  const prefix = uniquePrefix('metrics');
  let service: TicketingService;
  let api: ApiClient;
  let broker: TestBroker;
  let pool: pg.Pool;
  let queue: string | undefined;

  beforeAll(async () => {
    broker = await openTestBroker();
    pool = openPool();
    // No queue is bound at first: the broker returns this service's messages and they stay pending.
    service = await startService(testConfig(prefix), silentLogger, { retryMaxDelayMs: 200 });
    api = apiClient(service);
  });

  afterAll(async () => {
    await service?.stop();
    await pool?.end();
    await broker?.close();
    await deleteTestTopology(prefix, queue ? [queue] : []);
  });

  const bindQueue = async () => {
    queue ??= await bindTestQueue(broker.channel, prefix, 'metrics');
  };
  const scrape = async () => {
    const response = await fetch(`${service.url}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };
  const scrapeUntil = (accept: (text: string) => boolean, what: string) =>
    waitFor(
      async () => {
        const text = await scrape();
        return accept(text) ? text : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what },
    );

  it('When a ticket is added, then /metrics times it under the route template and never shows the cart id', async () => {
    const { cartId } = await api.createCart();
    expect((await api.addTicket(cartId, TICKET_TYPES.jazzStanding.id, 1)).status).toBe(201);

    const text = await scrapeUntil(
      (body) => body.includes('route="/carts/:cartId/tickets",status_code="201"'),
      'the add-ticket request in the metrics',
    );

    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/carts\/:cartId\/tickets",status_code="201"\}/,
    );
    expect(text).not.toContain(cartId);
    expect(text).toContain('# TYPE notify_outbox_pending gauge');
    expect(text).toContain('# TYPE notify_outbox_oldest_pending_age_seconds gauge');
    expect(text).toContain('# TYPE notify_outbox_published_total counter');
  });

  it('When a cart is created, filled and checked out on this instance, then its commands count as cart memory hits', async () => {
    const hits = (text: string) => sample(text, 'notify_api_cart_cache_total{outcome="hit"}') ?? 0;
    const before = hits(await scrape());
    const { cartId } = await api.createCart();
    // The first add reads the ticket type, which this instance has not seen yet: a miss.
    expect((await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1)).status).toBe(201);
    expect((await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 1)).status).toBe(201);
    expect((await api.post(`/carts/${cartId}/checkout`)).status).toBe(201);

    expect(hits(await scrape())).toBe(before + 2);
  });

  it('When rows cannot be routed, then the backlog shows them; once routed, it falls to zero', async () => {
    const { cartId } = await api.createCart();
    const { body } = await api.addTicket(cartId, TICKET_TYPES.jazzBalcony.id, 1);

    // This test file's exchange only: the rows counted are its own.
    const backlog = await scrapeUntil(
      (text) =>
        sample(text, 'notify_outbox_pending')! >= 1 && sample(text, 'notify_outbox_oldest_pending_age_seconds')! > 0,
      'a pending backlog with an age',
    );
    const publishedBefore = sample(backlog, 'notify_outbox_published_total')!;
    await bindQueue();
    await waitUntilPublished(pool, [body.notification.trackingId]);

    const drained = await scrapeUntil((text) => sample(text, 'notify_outbox_pending') === 0, 'an empty backlog');
    expect(sample(drained, 'notify_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sample(drained, 'notify_outbox_published_total')).toBeGreaterThanOrEqual(publishedBefore + 1);
  });

  it('When a checkout is relayed, then notify_outbox_published_total moves by one', async () => {
    await bindQueue();
    const before = sample(await scrape(), 'notify_outbox_published_total')!;
    const { cartId } = await api.createCart();
    await api.addTicket(cartId, TICKET_TYPES.matineeStudent.id, 2);
    const added = sample(
      await scrapeUntil((text) => sample(text, 'notify_outbox_published_total')! >= before + 1, 'the add relayed'),
      'notify_outbox_published_total',
    )!;

    const { body } = await api.checkout(cartId);
    await waitUntilPublished(pool, [body.notification.trackingId]);

    const after = await scrapeUntil(
      (text) => sample(text, 'notify_outbox_published_total')! >= added + 1,
      'the checkout counted as published',
    );
    expect(sample(after, 'notify_outbox_published_total')).toBe(added + 1);
  });

  it('When the database does not answer, then the backlog gauges read NaN, neither stale nor zero', async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1 });
    unreachable.on('error', () => undefined);
    const registry = createMetricsRegistry();
    registerOutboxMetrics(registry, { pool: unreachable, exchange: `${prefix}nowhere`, log: silentLogger });

    const text = await registry.metrics();
    await unreachable.end();

    expect(sample(text, 'notify_outbox_pending')).toBeNaN();
    expect(sample(text, 'notify_outbox_oldest_pending_age_seconds')).toBeNaN();
  });
});
