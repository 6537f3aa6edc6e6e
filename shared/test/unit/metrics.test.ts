import {
  createMetricsRegistry,
  listen,
  measureRequests,
  metricsRoutes,
  type RunningServer,
} from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import express, { Router } from 'express';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('metrics', () => {
  const registry = createMetricsRegistry();
  let server: RunningServer;

  beforeAll(async () => {
    const app = express();
    app.use(measureRequests(registry));
    app.use(metricsRoutes(registry));
    app.get('/carts/:cartId/tickets', (_req, res) => {
      res.status(201).json({});
    });
    app.use(
      '/orders',
      Router().get('/:orderId', (_req, res) => void res.json({})),
    );
    app.use((_req, res) => {
      res.status(404).json({});
    });
    server = await listen(app, { port: 0, log: silentLogger });
  });
  afterAll(async () => {
    await server.close();
  });

  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`);
    return { contentType: response.headers.get('content-type'), text: await response.text() };
  };
  /** A duration is recorded once the response has closed, which can be just after the client read it. */
  const scrapeUntil = (pattern: RegExp) =>
    waitFor(
      async () => {
        const { text } = await scrape();
        return pattern.test(text) ? text : undefined;
      },
      { timeoutMs: 2_000, what: `a scrape matching ${pattern}` },
    );

  it('When a route with a parameter answers, then its duration is labelled with the template, not the path', async () => {
    await fetch(`${server.url}/carts/cart-4711/tickets`);

    const text = await scrapeUntil(
      /http_request_duration_seconds_count\{method="GET",route="\/carts\/:cartId\/tickets",status_code="201"\} 1\n/,
    );

    expect(text).not.toContain('cart-4711');
  });

  it("When the route is in a mounted router, then the label includes the router's path", async () => {
    await fetch(`${server.url}/orders/order-42`);

    const text = await scrapeUntil(
      /http_request_duration_seconds_count\{method="GET",route="\/orders\/:orderId",status_code="200"\} 1\n/,
    );

    expect(text).not.toContain('order-42');
  });

  it('When no route matches, then the request counts as "unmatched", whatever its path', async () => {
    await fetch(`${server.url}/no/such/path-99`);

    const text = await scrapeUntil(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1\n/,
    );

    expect(text).not.toContain('path-99');
  });

  it("When scraped, then the answer is Prometheus' text format with the process metrics", async () => {
    const { contentType, text } = await scrape();

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('When two registries hold the same names, then neither collides with nor sees the other', async () => {
    const other = createMetricsRegistry();
    const counter = new Counter({ name: 'notify_test_total', help: 'test', registers: [other] });
    counter.inc(3);
    new Counter({ name: 'notify_test_total', help: 'test', registers: [createMetricsRegistry()] });

    expect(await other.metrics()).toContain('notify_test_total 3');
    expect((await scrape()).text).not.toContain('notify_test_total');
  });
});
