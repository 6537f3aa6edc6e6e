import { performance } from 'node:perf_hooks';
import { type JsonAnswer, JsonClient } from '@notify/test-support/system/json-client.js';
import { SEEDED_TICKET_TYPE_IDS } from '@notify/test-support/system/load-generator.js';

export type LoadResult = {
  /** Epoch ms when the first request went out, and when the last answer came back. */
  startedAt: number;
  finishedAt: number;
  requests: number;
  /** Requests that did not answer 201 (or failed on the socket); a few kept as samples. */
  errors: number;
  errorSamples: string[];
  /** Per request, from hand-over to the last byte of the answer, ms. */
  latencies: number[];
  /** Open loop only: from a flow's scheduled start to its checkout answered, ms. */
  flowLatencies: number[];
  /**
   * Open loop only: flows that could not start because too many were already in flight, or
   * because the run's deadline came before their scheduled start.
   */
  flowsNotStarted: number;
  flowsCompleted: number;
  /** Every notification the API accepted (the answers that carry a tracking id). */
  trackingIds: string[];
};

/**
 * How a checkout flow goes through the API. `three-requests`: create a cart, add a ticket (a
 * notification), check out (a second one). `cart-with-tickets`: create the cart with its ticket (the
 * first notification), check out. What the API accepted before a failure still counts: it must
 * still be sent.
 */
export type FlowKind = 'three-requests' | 'cart-with-tickets';

class FlowDriver {
  readonly result: LoadResult = {
    startedAt: 0,
    finishedAt: 0,
    requests: 0,
    errors: 0,
    errorSamples: [],
    latencies: [],
    flowLatencies: [],
    flowsNotStarted: 0,
    flowsCompleted: 0,
    trackingIds: [],
  };
  private readonly client: JsonClient;

  constructor(
    baseUrl: string,
    sockets: number,
    private readonly kind: FlowKind = 'three-requests',
  ) {
    this.client = new JsonClient(baseUrl, { sockets });
  }

  async flow(index: number): Promise<boolean> {
    const customer = { email: `bench-${index}@example.com`, name: `Bench Customer ${index}` };
    const ticket = {
      ticketTypeId: SEEDED_TICKET_TYPE_IDS[index % SEEDED_TICKET_TYPE_IDS.length],
      quantity: 1 + (index % 3),
    };
    const withTickets = this.kind === 'cart-with-tickets';
    const created = await this.post('/carts', withTickets ? { customer, tickets: [ticket] } : { customer });
    const cartId = created?.cartId;
    if (typeof cartId !== 'string') return false;
    const added = withTickets ? created : await this.post(`/carts/${cartId}/tickets`, ticket);
    if (!this.accept(added)) return false;
    const checkedOut = await this.post(`/carts/${cartId}/checkout`, undefined);
    return this.accept(checkedOut);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private accept(body: Record<string, unknown> | undefined): boolean {
    const trackingId = (body?.notification as { trackingId?: unknown } | undefined)?.trackingId;
    if (typeof trackingId !== 'string') return false;
    this.result.trackingIds.push(trackingId);
    return true;
  }

  /** The body of a 201, or undefined (counted as an error). */
  private async post(path: string, body: unknown): Promise<Record<string, unknown> | undefined> {
    if (this.result.startedAt === 0) this.result.startedAt = Date.now();
    const begin = performance.now();
    const answer = await this.client
      .post(path, body)
      .catch((error: Error): JsonAnswer => ({ status: 0, body: { error: error.message } }));
    this.result.latencies.push(performance.now() - begin);
    this.result.requests += 1;
    this.result.finishedAt = Date.now();
    if (answer.status === 201) return answer.body;
    this.result.errors += 1;
    if (this.result.errorSamples.length < 5) {
      this.result.errorSamples.push(`POST ${path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    }
    return undefined;
  }
}

/** Closed loop: `concurrency` flows in flight, each starting the next flow as it ends, `flows` in all. */
export async function runClosedLoop(
  baseUrl: string,
  { flows, concurrency, deadline, flow }: { flows: number; concurrency: number; deadline: number; flow?: FlowKind },
): Promise<LoadResult> {
  const driver = new FlowDriver(baseUrl, concurrency, flow);
  let next = 0;
  const worker = async () => {
    while (next < flows && Date.now() < deadline) {
      const index = next;
      next += 1;
      if (await driver.flow(index)) driver.result.flowsCompleted += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, flows) }, worker));
    return driver.result;
  } finally {
    await driver.close();
  }
}

/**
 * Open loop: a flow starts every 1/rate s whatever the earlier ones are doing, for `seconds`. A
 * flow's latency runs from its scheduled start, so a generator or service that falls behind
 * shows in the figures instead of being hidden (no coordinated omission).
 */
export async function runOpenLoop(
  baseUrl: string,
  { rate, seconds, maxInFlight, deadline }: { rate: number; seconds: number; maxInFlight: number; deadline: number },
): Promise<LoadResult> {
  const driver = new FlowDriver(baseUrl, maxInFlight);
  const total = rate * seconds;
  const inFlight = new Set<Promise<void>>();
  const begin = performance.now();
  let started = 0;
  try {
    while (started < total && Date.now() < deadline) {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - begin) * rate) / 1_000) + 1);
      for (; started < due; started += 1) {
        if (inFlight.size >= maxInFlight) {
          driver.result.flowsNotStarted += 1;
          continue;
        }
        const scheduled = begin + (started * 1_000) / rate;
        const flow = driver.flow(started).then((completed) => {
          if (!completed) return;
          driver.result.flowsCompleted += 1;
          driver.result.flowLatencies.push(performance.now() - scheduled);
        });
        inFlight.add(flow);
        flow.finally(() => inFlight.delete(flow));
      }
      const nextAt = begin + (started * 1_000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, nextAt - performance.now())));
    }
    // Offered all the same: left out, they would vanish from the count of flows offered.
    driver.result.flowsNotStarted += total - started;
    await Promise.all(inFlight);
    return driver.result;
  } finally {
    await driver.close();
  }
}
