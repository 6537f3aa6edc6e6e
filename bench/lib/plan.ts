import { type BenchOptions, UsageError } from './cli.js';
import type { ScenarioSpec } from './scenario.js';

/** The handler's highest MAILJET_MAX_CALLS_PER_SECOND: 500,000 emails/s, out of reach of any core. */
export const UNPACED_MAILJET_CALLS_PER_SECOND = 10_000;

/** An explicit --prefetch wins; otherwise the handler's own default, what a deployment gets. */
export function effectivePrefetch(options: Pick<BenchOptions, 'prefetch'>, handlerDefault: number): number {
  return options.prefetch ?? handlerDefault;
}

/**
 * --cluster: the handler's drain on the machine's single broker, then on the run's cluster with 1,
 * 2, 3... handler processes, same count, latency and prefetch: what replication costs, and what
 * more handlers do on these cores.
 */
function clusterScenarios(options: BenchOptions, prefetch: number): ScenarioSpec[] {
  return options.drain.flatMap((latency) => {
    const drain = {
      mode: 'drain' as const,
      providerLatencyMs: latency,
      prefetch,
      profile: options.profile,
      notifications: options.sweepCount,
      concurrency: options.concurrency,
      maxSeconds: options.sweepSeconds,
    };
    return [
      { ...drain, name: `single-node-drain-${latency}ms-handlers-1` },
      ...options.clusterHandlers.map((handlers) => ({
        ...drain,
        name: `cluster-drain-${latency}ms-handlers-${handlers}`,
        handlers,
        onCluster: true,
      })),
    ];
  });
}

/** The run's scenarios in order, at the handler's default PREFETCH unless --prefetch says otherwise. */
export function planScenarios(options: BenchOptions, handlerDefault: number): ScenarioSpec[] {
  const { ticketingEnv, handlerEnv } = options;
  return chooseScenarios(options, handlerDefault).map((spec) => ({ ...spec, ticketingEnv, handlerEnv }));
}

function chooseScenarios(options: BenchOptions, handlerDefault: number): ScenarioSpec[] {
  const prefetch = effectivePrefetch(options, handlerDefault);
  if (options.cluster) return clusterScenarios(options, prefetch);
  const { profile, concurrency } = options;
  // The closed and open loops warm their services up before the run; a drain, which starts its
  // handler afresh, drains its warm-up first (the sweeps' rates are their latency's and prefetch's).
  const warmUpNotifications = options.warmUp;
  const closed = (latency: number): ScenarioSpec => ({
    name: `closed-${latency}ms`,
    mode: 'closed',
    providerLatencyMs: latency,
    prefetch,
    profile,
    warmUpNotifications,
    notifications: options.count,
    concurrency,
    maxSeconds: options.maxSeconds,
  });
  const specs: ScenarioSpec[] = options.latencies.map(closed);
  // The same closed loop with one request fewer per checkout: what the API's request count costs.
  for (const latency of options.cartWithTickets) {
    specs.push({ ...closed(latency), name: `closed-${latency}ms-cart-with-tickets`, flow: 'cart-with-tickets' });
  }
  for (const rate of options.rates) {
    specs.push({
      name: `open-${rate}cps-${options.rateLatencyMs}ms`,
      mode: 'open',
      providerLatencyMs: options.rateLatencyMs,
      prefetch,
      profile,
      warmUpNotifications,
      checkoutsPerSecond: rate,
      seconds: options.rateSeconds,
    });
  }
  const drain = (name: string, latency: number, drainPrefetch: number, notifications: number): ScenarioSpec => ({
    name,
    mode: 'drain',
    providerLatencyMs: latency,
    prefetch: drainPrefetch,
    profile,
    notifications,
    concurrency,
    maxSeconds: options.sweepSeconds,
  });
  const warmedDrain = (name: string, latency: number): ScenarioSpec => ({
    ...drain(name, latency, prefetch, options.drainCount),
    ...(warmUpNotifications > 0 ? { drainWarmUp: warmUpNotifications } : {}),
  });
  for (const latency of options.drain) specs.push(warmedDrain(`drain-${latency}ms-prefetch-${prefetch}`, latency));
  // Paced, a drain shows the account's budget (2,500 emails/s at the defaults); unpaced, the handler.
  for (const latency of options.unpaced) {
    const spec = warmedDrain(`drain-${latency}ms-prefetch-${prefetch}-unpaced`, latency);
    specs.push({ ...spec, mailjetCallsPerSecond: UNPACED_MAILJET_CALLS_PER_SECOND });
  }
  // The same drain through SendGrid: one request per email, where Mailjet carries up to 50 a call.
  for (const latency of options.sendgrid) {
    const spec = warmedDrain(`drain-${latency}ms-prefetch-${prefetch}-sendgrid`, latency);
    specs.push({ ...spec, providers: 'sendgrid' });
  }
  for (const sweepPrefetch of options.sweep) {
    const name = `sweep-${options.sweepLatencyMs}ms-prefetch-${sweepPrefetch}`;
    specs.push(drain(name, options.sweepLatencyMs, sweepPrefetch, options.sweepCount));
  }
  const chosen = options.only.length === 0 ? specs : specs.filter((spec) => options.only.includes(spec.name));
  const unknown = options.only.filter((name) => !specs.some((spec) => spec.name === name));
  if (unknown.length > 0)
    throw new UsageError(
      `--only names no scenario of this run: ${unknown.join(', ')} (there are ${specs.map((spec) => spec.name).join(', ')})`,
    );
  // The same scenario on empty tables, then on a history: the difference is what a history costs.
  if (options.history === 0) return chosen;
  return chosen.flatMap((spec) => [spec, { ...spec, name: `${spec.name}-history`, historyRows: options.history }]);
}
