import { waitFor } from '../wait.js';
import { JsonClient } from './json-client.js';

/** Ticket types seeded by ticketing-service/migrations/001_catalog.sql. */
export const SEEDED_TICKET_TYPE_IDS = [1, 2, 3, 4, 5, 6].map((n) => `a1000000-0000-4000-8000-00000000000${n}`);

export type LoadOptions = {
  /** The ticketing service, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** Several ticketing instances: flow n goes to `baseUrls[n % length]`, all three of its requests. */
  baseUrls?: string[];
  /** Checkouts started per second (open loop: a slow or dead service does not slow the schedule). */
  ratePerSecond: number;
  /** No checkout starts after this long... */
  durationMs: number;
  /** ...or once this many were started. */
  maxCheckouts?: number;
  /** Checkouts in progress at once; a start past it is skipped and counted, not queued. */
  maxConcurrent?: number;
  requestTimeoutMs?: number;
  /** Recipients are `<emailPrefix>-<n>@example.com`. */
  emailPrefix?: string;
};

export type AcceptedNotification = {
  trackingId: string;
  operation: 'ticket.added_to_checkout' | 'checkout.completed';
  /** When the API's 201 arrived (ms since the epoch). */
  acceptedAt: number;
  cartId: string;
  orderId?: string;
};

export type LoadStats = {
  /** Checkout flows started (cart → ticket → checkout). */
  started: number;
  /** Flows whose three requests all answered 201. */
  completed: number;
  /** Flows that ended early: a request failed or answered something else than 201. */
  failed: number;
  /** Starts skipped because `maxConcurrent` flows were already running. */
  skipped: number;
  /** Failures by step and cause: `checkout: 503`, `cart: ECONNREFUSED`... */
  errors: Record<string, number>;
  /**
   * 201 answers to a change that must send an email but named no `notification.trackingId`: the
   * API took the change, yet nothing here can follow its email. See `loadProblems`.
   */
  untracked: number;
  /** Tracking ids the API answered for two changes: one of the two notifications cannot be followed. */
  reusedTrackingIds: string[];
};

export type LoadRun = {
  startedAt: number;
  /** Filled as answers arrive: only tracking ids the API answered 201 for. */
  accepted: Map<string, AcceptedNotification>;
  stats: LoadStats;
  /** true until the schedule ran out or `stop()` was called: flows are still being started. */
  readonly running: boolean;
  /** Resolves once at least `count` checkouts completed (a point in the load to inject a fault at). */
  untilCompleted: (count: number, timeoutMs?: number) => Promise<void>;
  /** Stops starting flows; resolves once the ones in progress ended. */
  stop: () => Promise<LoadResult>;
  /** Resolves when the schedule ran out (time or count) and every flow ended. */
  done: Promise<LoadResult>;
};

export type LoadResult = {
  startedAt: number;
  endedAt: number;
  accepted: Map<string, AcceptedNotification>;
  stats: LoadStats;
};

/**
 * Drives checkouts through the REST API at a steady rate: create a cart, add a ticket, check out.
 * Each 201 that carries `notification.trackingId` records that notification as accepted; a request
 * that failed in any way (refused, reset, timed out, not 201) accepts nothing and ends its flow.
 */
export function startLoad(options: LoadOptions): LoadRun {
  const accepted = new Map<string, AcceptedNotification>();
  const stats: LoadStats = {
    started: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    errors: {},
    untracked: 0,
    reusedTrackingIds: [],
  };
  const inFlight = new Set<Promise<void>>();
  const startedAt = Date.now();
  const intervalMs = 1_000 / options.ratePerSecond;
  const maxCheckouts = options.maxCheckouts ?? Number.POSITIVE_INFINITY;
  const maxConcurrent = options.maxConcurrent ?? 100;
  const emailPrefix = options.emailPrefix ?? `load-${startedAt.toString(36)}`;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: (result: LoadResult) => void = () => undefined;
  const done = new Promise<LoadResult>((resolve) => {
    finish = resolve;
  });

  const client = new JsonClient(options.baseUrl, { sockets: maxConcurrent });
  const post = async (base: string, step: string, path: string, body?: unknown) => {
    try {
      const answer = await client.post(path, body, { timeoutMs: options.requestTimeoutMs ?? 10_000, baseUrl: base });
      // An empty 201 still is a 201: `accept` must see it to count it as untracked.
      if (answer.status === 201) return (answer.body ?? {}) as any;
      count(`${step}: ${answer.status}`);
    } catch (error) {
      count(`${step}: ${causeOf(error)}`);
    }
    return undefined;
  };
  const count = (key: string) => {
    stats.errors[key] = (stats.errors[key] ?? 0) + 1;
  };
  const accept = (body: any, operation: AcceptedNotification['operation'], cartId: string) => {
    if (body === undefined) return false; // not a 201: counted by post
    const trackingId = body.notification?.trackingId;
    if (typeof trackingId !== 'string') {
      stats.untracked += 1;
      count(`${operation}: 201 without notification.trackingId`);
      return false;
    }
    // Kept apart rather than overwritten: a Map keyed by tracking id would fold two accepted
    // notifications into one, and the one that never gets an email would not count as lost.
    if (accepted.has(trackingId)) {
      stats.reusedTrackingIds.push(trackingId);
      count(`${operation}: 201 with a tracking id already answered`);
      return false;
    }
    accepted.set(trackingId, { trackingId, operation, acceptedAt: Date.now(), cartId, orderId: body.orderId });
    return true;
  };

  const checkout = async (n: number) => {
    const customer = { email: `${emailPrefix}-${n}@example.com`, name: `Load Customer ${n}` };
    const base = options.baseUrls?.[n % options.baseUrls.length] ?? options.baseUrl;
    const cart = await post(base, 'cart', '/carts', { customer });
    const cartId = cart?.cartId;
    if (typeof cartId !== 'string') return false;
    const ticketTypeId = SEEDED_TICKET_TYPE_IDS[n % SEEDED_TICKET_TYPE_IDS.length];
    const added = await post(base, 'ticket', `/carts/${cartId}/tickets`, { ticketTypeId, quantity: 1 + (n % 3) });
    if (!accept(added, 'ticket.added_to_checkout', cartId)) return false;
    return accept(await post(base, 'checkout', `/carts/${cartId}/checkout`), 'checkout.completed', cartId);
  };

  const result = (): LoadResult => ({ startedAt, endedAt: Date.now(), accepted, stats });
  const settle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await client.close();
    const final = result();
    finish(final);
    return final;
  };
  const end = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    void settle();
  };

  // Each tick starts the flows that are due by now, so a late timer does not lower the rate.
  const tick = () => {
    const due = Math.min(maxCheckouts, Math.floor((Date.now() - startedAt) / intervalMs) + 1);
    while (!stopped && stats.started + stats.skipped < due) {
      if (inFlight.size >= maxConcurrent) {
        stats.skipped += 1;
        continue;
      }
      stats.started += 1;
      const flow = checkout(stats.started).then((ok) => {
        if (ok) stats.completed += 1;
        else stats.failed += 1;
      });
      inFlight.add(flow);
      void flow.finally(() => inFlight.delete(flow));
    }
    if (Date.now() - startedAt >= options.durationMs || stats.started + stats.skipped >= maxCheckouts) return end();
    if (!stopped) timer = setTimeout(tick, Math.max(1, intervalMs / 2));
  };
  tick();

  return {
    startedAt,
    accepted,
    stats,
    get running() {
      return !stopped;
    },
    untilCompleted: (target, timeoutMs = 60_000) =>
      waitFor(
        () => (stats.completed >= target ? true : stopped && inFlight.size === 0 ? fail(target, stats) : undefined),
        {
          timeoutMs,
          intervalMs: 20,
          what: `${target} completed checkouts`,
        },
      ).then(() => undefined),
    stop: () => {
      end();
      return done;
    },
    done,
  };
}

/**
 * What the load itself saw that breaks the promise, whatever the checks on the system find: 201
 * answers whose notification cannot be followed. Empty when there were none.
 */
export function loadProblems(stats: LoadStats): string[] {
  const problems: string[] = [];
  if (stats.untracked > 0)
    problems.push(`${stats.untracked} change(s) answered 201 without a notification tracking id`);
  if (stats.reusedTrackingIds.length > 0) {
    problems.push(
      `${stats.reusedTrackingIds.length} tracking id(s) answered for two changes: ${stats.reusedTrackingIds.slice(0, 5).join(', ')}`,
    );
  }
  return problems;
}

function fail(target: number, stats: LoadStats): never {
  const { started, completed, failed, skipped, errors } = stats;
  throw new Error(
    `the load ended before ${target} checkouts completed: ${started} started, ${completed} completed, ` +
      `${failed} failed, ${skipped} skipped; failures ${JSON.stringify(errors)}`,
  );
}

function causeOf(error: unknown): string {
  const err = error as { name?: string; code?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError') return 'timeout';
  return err.cause?.code ?? err.code ?? err.name ?? 'error';
}
