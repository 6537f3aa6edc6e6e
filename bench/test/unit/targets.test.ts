import { describe, expect, it } from 'vitest';
import { TARGETS_HOST } from '../../lib/host-speed.js';
import { checkTargets, type RunResult, renderMarkdown, type TargetCheck } from '../../lib/report.js';
import type { ScenarioResult, ScenarioSpec } from '../../lib/scenario.js';
import { summarize } from '../../lib/stats.js';

const HANDLER = { prefetch: 50 };

function closed(latency: number, overrides: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return {
    name: `closed-${latency}ms`,
    mode: 'closed',
    providerLatencyMs: latency,
    prefetch: HANDLER.prefetch,
    profile: false,
    notifications: 1_000,
    concurrency: 64,
    maxSeconds: 90,
    ...overrides,
  } as ScenarioSpec;
}

function drain(latency: number, overrides: Partial<ScenarioSpec> = {}): ScenarioSpec {
  return { ...closed(latency), name: `drain-${latency}ms-prefetch-50`, mode: 'drain', ...overrides } as ScenarioSpec;
}

function open(checkoutsPerSecond: number): ScenarioSpec {
  return {
    name: `open-${checkoutsPerSecond}cps-0ms`,
    mode: 'open',
    providerLatencyMs: 0,
    prefetch: HANDLER.prefetch,
    profile: false,
    checkoutsPerSecond,
    seconds: 10,
  };
}

function result(
  spec: ScenarioSpec,
  measured: {
    perSec?: number;
    p99Ms?: number;
    cpuMs?: Record<string, number>;
    ok?: boolean;
    notifications?: number;
  } = {},
): ScenarioResult {
  const latency = { ...summarize([1]), p99: measured.p99Ms ?? 10 };
  return {
    spec,
    notifications: measured.notifications ?? 1_000,
    ingest: { requests: 1_500, errors: 0, errorSamples: [], seconds: 1, requestsPerSec: 1_500, latencyMs: latency },
    endToEnd: {
      seconds: 1,
      notificationsPerSec: measured.perSec ?? 0,
      drainAfterIngestMs: 0,
      acceptedToSentMs: latency,
    },
    stages: {
      builtToWritten: latency,
      writtenToRelayed: latency,
      relayedToClaimed: latency,
      claimedToSent: latency,
      sentToSettled: latency,
    },
    stageRates: { ingestNotificationsPerSec: 0, relayPerSec: 0, handlerPerSec: 0 },
    cpu: {
      wallMs: 1_000,
      componentMs: {},
      machineBusyMs: 0,
      otherMs: 0,
      perNotificationMs: measured.cpuMs ?? {},
    },
    memory: { intervalMs: 1_000, samples: 0, byProcess: {} },
    tables: { 'ticketing.outbox': { live: 1_000, dead: 12_345, vacuums: 2 } },
    complete: true,
    completion: 'settled',
    verification: { ok: measured.ok ?? true, problems: [] } as unknown as ScenarioResult['verification'],
  };
}

/** A run of these scenarios as the report renders it; the machine only as far as a test needs. */
function renderRun(
  scenarios: ScenarioResult[],
  machine: Partial<RunResult['machine']> = {},
  baseline: RunResult['baseline'] = { postgres: [] },
): string {
  return renderMarkdown({
    runId: 'test',
    startedAt: '',
    finishedAt: '',
    command: '',
    source: { commit: 'abc', uncommittedServiceChanges: false },
    machine: machine as RunResult['machine'],
    options: {} as RunResult['options'],
    baseline,
    scenarios,
    targets: checkTargets(scenarios, HANDLER),
  });
}

const byTarget = (targets: TargetCheck[], words: string) => {
  const found = targets.find((t) => t.target.includes(words));
  if (!found) throw new Error(`no target mentions "${words}": ${targets.map((t) => t.target).join('; ')}`);
  return found;
};

describe('bench targets', () => {
  it('When some open-loop flows failed, then the report counts them apart and says whose latency it gives', () => {
    const open500 = result(open(500));
    // 5,000 offered: 100 not started, 4,850 answered, so 50 failed.
    open500.ingest = { ...open500.ingest, flowsNotStarted: 100, flowLatencyMs: summarize(Array(4_850).fill(20)) };

    const markdown = renderRun([open500]);

    expect(markdown).toContain('5,000 checkout flows offered over 10 s, 100 not started');
    expect(markdown).toContain('50 failed');
    expect(markdown).toContain('4,850 answered');
    expect(markdown).toContain('(of the answered flows)');
  });

  it('When no scenario ran, then every target says "not run"', () => {
    const targets = checkTargets([], HANDLER);
    expect(targets).toHaveLength(6);
    for (const target of targets) expect(target).toMatchObject({ measured: 'not run', met: null });
  });

  it('When the targets are stated, then they name the agreed numbers', () => {
    expect(checkTargets([], HANDLER).map((t) => t.target)).toEqual([
      'end to end ≥ 1,500/s with a 0 ms provider (closed loop)',
      'end to end ≥ 1,200/s with a 100 ms provider on default settings (handler PREFETCH 50, closed loop)',
      'the handler draining alone ≥ 5,000/s with a 0 ms provider',
      'at 1,000 notifications/s offered (open loop, 500 checkouts/s), accepted → sent p99 ≤ 250 ms',
      'CPU per notification, all processes (“ours”), ≤ 1.2 ms with a 0 ms provider (closed loop)',
      'no notification lost or duplicated in any run',
    ]);
  });

  it('When the closed 0 ms scenario reaches 1,500/s, then that target is met, and 1,499/s is not', () => {
    const met = checkTargets([result(closed(0), { perSec: 1_500 })], HANDLER);
    expect(byTarget(met, '1,500/s')).toMatchObject({ met: true, measured: '1,500/s at PREFETCH 50' });
    const missed = checkTargets([result(closed(0), { perSec: 1_499 })], HANDLER);
    expect(byTarget(missed, '1,500/s').met).toBe(false);
  });

  it('When only the cart-with-tickets flow ran at 0 ms, then the rate and CPU targets, set for three requests per checkout, are not run', () => {
    const twoRequests = closed(0, { name: 'closed-0ms-cart-with-tickets', flow: 'cart-with-tickets' });
    const targets = checkTargets([result(twoRequests, { perSec: 2_000, cpuMs: { ticketing: 0.5 } })], HANDLER);
    expect(byTarget(targets, '1,500/s')).toMatchObject({ measured: 'not run', met: null });
    expect(byTarget(targets, 'CPU per notification')).toMatchObject({ measured: 'not run', met: null });
    const both = checkTargets([result(twoRequests, { perSec: 2_000 }), result(closed(0), { perSec: 900 })], HANDLER);
    expect(byTarget(both, '1,500/s')).toMatchObject({ measured: '900/s at PREFETCH 50', met: false });
  });

  it('When the 100 ms scenario ran at the handler’s default PREFETCH, then 1,200/s counts', () => {
    const targets = checkTargets([result(closed(100), { perSec: 1_250 })], HANDLER);
    expect(byTarget(targets, '1,200/s')).toMatchObject({ met: true });
  });

  it('When the 100 ms scenario ran at another PREFETCH, then its rate is shown but does not count', () => {
    const targets = checkTargets([result(closed(100, { prefetch: 200 }), { perSec: 5_000 })], HANDLER);
    const target = byTarget(targets, '1,200/s');
    expect(target).toMatchObject({ met: null, measured: '5,000/s at PREFETCH 200' });
    expect(target.reason).toMatch(/not the handler’s default 50/);
  });

  it('When only a sweep, a SendGrid or a cluster drain ran at 0 ms, then the drain target is not run', () => {
    const others = [
      result(drain(0, { name: 'sweep-0ms-prefetch-200' }), { perSec: 9_000 }),
      result(drain(0, { name: 'drain-0ms-prefetch-50-sendgrid', providers: 'sendgrid' }), { perSec: 9_000 }),
      result(drain(0, { name: 'cluster-drain-0ms-handlers-3', onCluster: true, handlers: 3 }), { perSec: 9_000 }),
    ];
    expect(byTarget(checkTargets(others, HANDLER), '5,000/s')).toMatchObject({ measured: 'not run', met: null });
    const withDrain = checkTargets([...others, result(drain(0), { perSec: 5_100 })], HANDLER);
    expect(byTarget(withDrain, '5,000/s')).toMatchObject({ met: true, measured: '5,100/s at PREFETCH 50' });
  });

  it('When an unpaced drain ran, then it alone decides the drain target, and the paced drain is shown beside it', () => {
    const unpaced = (perSec: number) =>
      result(drain(0, { name: 'drain-0ms-prefetch-50-unpaced', mailjetCallsPerSecond: 10_000 }), { perSec });
    const paced = result(drain(0), { perSec: 2_450 });
    expect(byTarget(checkTargets([paced, unpaced(5_000)], HANDLER), '5,000/s')).toMatchObject({
      met: true,
      measured: '5,000/s at PREFETCH 50, Mailjet call budget lifted; 2,450/s at the default budget',
    });
    expect(byTarget(checkTargets([unpaced(4_999), paced], HANDLER), '5,000/s').met).toBe(false);
    expect(byTarget(checkTargets([unpaced(4_999)], HANDLER), '5,000/s')).toMatchObject({
      met: false,
      measured: '4,999/s at PREFETCH 50, Mailjet call budget lifted',
    });
  });

  it('When the drain was measured after a warm-up, then its rate from the first claim is shown beside the one judged', () => {
    const warmed = result(drain(0, { name: 'drain-0ms-prefetch-50-unpaced', mailjetCallsPerSecond: 10_000 }), {
      perSec: 5_200,
    });
    warmed.endToEnd.drainWarmUp = { leftOut: 2_100, fromFirstClaimPerSec: 4_700 };
    expect(byTarget(checkTargets([warmed], HANDLER), '5,000/s')).toMatchObject({
      met: true,
      measured: '5,200/s at PREFETCH 50, Mailjet call budget lifted (4,700/s from its first claim, warm-up included)',
    });
  });

  it('When only a slower open loop ran, then the p99 target is not run; at 500 checkouts/s it is judged', () => {
    expect(byTarget(checkTargets([result(open(25), { p99Ms: 100 })], HANDLER), 'p99')).toMatchObject({ met: null });
    const offered = 500 * 10 * 2;
    const judged = (p99Ms: number, notifications: number) =>
      byTarget(checkTargets([result(open(500), { p99Ms, notifications })], HANDLER), 'p99');
    expect(judged(250, offered).met).toBe(true);
    expect(judged(251, offered).met).toBe(false);
    expect(judged(250, offered * 0.99).met).toBe(true);
  });

  it('When the open loop accepted less than it offered, then a low p99 does not meet the target, and the measure says how much was taken', () => {
    const judged = byTarget(checkTargets([result(open(500), { p99Ms: 100, notifications: 4_758 })], HANDLER), 'p99');
    expect(judged.met).toBe(false);
    expect(judged.measured).toContain('4,758 of 10,000 offered accepted');
  });

  it('When the closed 0 ms scenario’s processes add up to 1.2 ms of CPU, then the CPU target is met; other work and the bench’s checks do not count', () => {
    const cpu = (handler: number) => ({
      handler,
      ticketing: 0.5,
      'postgresql ← ticketing': 0.2,
      // The bench's polling: measured, not a notification's cost.
      'postgresql ← bench checks': 0.3,
      'other work on the machine': 5,
      'machine total': 6.2,
    });
    const met = checkTargets([result(closed(0), { cpuMs: cpu(0.5) })], HANDLER);
    expect(byTarget(met, 'CPU')).toMatchObject({ met: true, measured: '1.20 ms' });
    expect(byTarget(checkTargets([result(closed(0), { cpuMs: cpu(0.6) })], HANDLER), 'CPU').met).toBe(false);
  });

  it('When one scenario lost a notification, then the loss target fails, and it stays the last row', () => {
    const targets = checkTargets([result(closed(0)), result(drain(0), { ok: false })], HANDLER);
    expect(targets.at(-1)).toMatchObject({ met: false, target: 'no notification lost or duplicated in any run' });
  });

  it('When the run has both baselines, then the report says how fast the host is and scales the targets’ figures to the targets’ host', () => {
    const fast = {
      rabbitmq: {
        queueType: 'quorum' as const,
        messages: TARGETS_HOST.messages,
        messageBytes: 480,
        confirmBatch: 200,
        prefetch: 500,
        publishConfirmPerSec: 2 * TARGETS_HOST.publishesPerSec,
        consumeAckPerSec: 50_000,
      },
      postgres: [{ pairs: TARGETS_HOST.pairs, pool: 20, pairsPerSec: 2 * TARGETS_HOST.postgresPairsPerSec }],
    };
    const scenarios = [result(closed(0), { perSec: 1_600, cpuMs: { ticketing: 0.5, handler: 0.1 } })];

    const markdown = renderRun(scenarios, {}, fast);

    expect(markdown).toContain('2.00 times as fast as the one the targets were set on (2026-11-30');
    expect(markdown).toContain('the geometric mean of the two baselines’ ratios, 2.00 and 2.00)');
    expect(markdown).toContain('closed-0ms 800/s, CPU per notification 1.20 ms.');
    expect(renderRun(scenarios)).not.toContain('times as fast');
  });

  it('When a target does not count, then the table says why instead of "not run"', () => {
    const scenarios = [result(closed(100, { prefetch: 200 }), { perSec: 5_000 })];
    const markdown = renderRun(scenarios);
    expect(markdown).toMatch(
      /\| 5,000\/s at PREFETCH 200 \| does not count: PREFETCH 200 is not the handler’s default 50 \|/,
    );
  });

  it('When a run is rendered, then it prints the server’s autovacuum setting and each table’s dead rows', () => {
    const scenarios = [result(closed(0))];
    const markdown = renderRun(scenarios, { autovacuum: 'off' });
    expect(markdown).toMatch(/\(autovacuum off\)/);
    expect(markdown).toMatch(/PostgreSQL autovacuum: \*\*off\*\*/);
    // The outbox column holds the scenario's dead rows; a table it did not read shows a dash.
    expect(markdown).toMatch(/\| closed-0ms \| — \| — \| 12,345 \(2\) \| — \|/);
  });

  it('When the scenarios counted their batches, then the report gives notifications per transaction; older runs have no such table', () => {
    const counted = result(closed(0));
    counted.stages = { ...counted.stages, batches: { relay: 47.6, claim: 16.6, settlement: 28.9 } };
    expect(renderRun([counted, result(closed(100))])).toMatch(/\| closed-0ms \| 47\.6 \| 16\.6 \| 28\.9 \|/);
    expect(renderRun([result(closed(0))])).not.toContain('per relay batch');
  });

  it('When the CPU was split into user and kernel time, then the report gives each component’s kernel share', () => {
    const split = result(closed(0));
    split.cpu = {
      ...split.cpu,
      componentMs: { ticketing: 1_000, handler: 400, sandbox: 0 },
      componentKernelMs: { ticketing: 160, handler: 100, sandbox: 0 },
    };
    const unsplit = result(closed(100));
    unsplit.cpu = { ...unsplit.cpu, componentMs: { ticketing: 1_000 } };

    const markdown = renderRun([split, unsplit]);

    expect(markdown).toMatch(/\| scenario \| sandbox \| handler \| ticketing \|\n\| --- \| ---: \| ---: \| ---: \|/);
    expect(markdown).toMatch(/\| closed-0ms \| — \| 25 \| 16 \|/);
    // A run recorded before the split has no row, rather than a share of zero.
    expect(markdown).not.toMatch(/\| closed-100ms \| \d+ \| \d+ \| — \|/);
  });

  it('When two runs met the PostgreSQL backends in different orders, then their CPU tables have the same columns in the same order', () => {
    const seen = (componentMs: Record<string, number>) => {
      const scenario = result(closed(0));
      scenario.cpu = { ...scenario.cpu, componentMs, perNotificationMs: componentMs };
      return renderRun([scenario])
        .split('\n')
        .find((line) => line.startsWith('| scenario | ') && line.includes('ours'));
    };

    const ticketingFirst = seen({ 'postgresql ← ticketing': 1, 'postgresql ← handler': 2, handler: 3, 'handler-2': 4 });
    const handlerFirst = seen({ 'handler-2': 4, 'postgresql ← handler': 2, 'postgresql ← ticketing': 1, handler: 3 });

    expect(ticketingFirst).toBe(handlerFirst);
    expect(ticketingFirst).toContain('| handler | postgresql ← handler | postgresql ← ticketing | handler-2 | ours |');
  });
});
