import { type PostgresBaseline, pairsAtHandlerPool, type RabbitBaseline } from './baseline.js';
import type { BenchOptions } from './cli.js';
import { BENCH_CHECKS, POSTGRES_SERVER } from './cpu-accounting.js';
import { baselineRatios, hostSpeed, type ScaledFigure, scaleToTargetsHost, TARGETS_HOST } from './host-speed.js';
import type { MachineInfo } from './machine.js';
import { POSTGRES_BACKENDS } from './memory.js';
import type { ScenarioResult } from './scenario.js';
import { fraction, type LatencySummary } from './stats.js';
import { WATCHED_TABLES } from './table-rows.js';

export type Baseline = { rabbitmq?: RabbitBaseline; postgres: PostgresBaseline[]; error?: string };
/** met: null when the target could not be judged; `reason` then says why (by default: its scenario did not run). */
export type TargetCheck = { target: string; measured: string; met: boolean | null; reason?: string };

/** The handler's own settings when nobody sets them, as its config loads them. */
export type HandlerDefaults = { prefetch: number };

export type RunResult = {
  runId: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  /** The commit the services were built from, and whether their sources differed from it. */
  source: { commit: string; uncommittedServiceChanges: boolean };
  aborted?: string;
  machine: MachineInfo;
  options: BenchOptions;
  /** Absent from runs before it was recorded. */
  handlerDefaults?: HandlerDefaults;
  baseline: Baseline;
  scenarios: ScenarioResult[];
  targets: TargetCheck[];
};

/** What the --cluster figures mean on this machine: printed with them, and in bench/README.md. */
export const CLUSTER_NOTE =
  'On these two cores the cluster shows what replication costs, not a speed-up: three RabbitMQ nodes share the ' +
  'cores with PostgreSQL and every process, and each message is written to three of them (RabbitMQ CPU per ' +
  'message above). Where more handlers raise the drain rate here, it is not CPU: each handler process has a ' +
  'Mailjet call budget of its own (MAILJET_MAX_CALLS_PER_SECOND, 50 calls/s by default), which is what bounds ' +
  'one handler at the default settings; N handlers make N times those calls to the same Mailjet account.';

export function vsBaseline(scenario: ScenarioResult, baseline: Baseline) {
  const rate = scenario.endToEnd.notificationsPerSec;
  const pairs = pairsAtHandlerPool(baseline.postgres) ?? 0;
  return {
    rabbitPublish: fraction(rate, baseline.rabbitmq?.publishConfirmPerSec ?? 0),
    rabbitConsume: fraction(rate, baseline.rabbitmq?.consumeAckPerSec ?? 0),
    postgresPairs: fraction(rate, pairs),
  };
}

/** The throughput targets, each from the one scenario that can show it; the loss check stays last. */
export function checkTargets(scenarios: ScenarioResult[], handler: HandlerDefaults): TargetCheck[] {
  return [
    closedRateTarget(scenarios, 0, 1_500),
    defaultSettingsRateTarget(scenarios, handler, 100, 1_200),
    drainTarget(scenarios, 0, 5_000),
    openLoopLatencyTarget(scenarios, 500, 250),
    cpuTarget(scenarios, 0, 1.2),
    lossTarget(scenarios),
  ];
}

const NOT_RUN = 'not run';

/**
 * The closed-loop scenario at this provider latency on empty tables, with the three-request flow the
 * targets were set for (not a sweep, not its -history twin, not the cart-with-tickets flow).
 */
function closedAt(scenarios: ScenarioResult[], latency: number): ScenarioResult | undefined {
  return scenarios.find(
    (s) => s.spec.mode === 'closed' && s.spec.providerLatencyMs === latency && !s.spec.historyRows && !s.spec.flow,
  );
}

const rateAt = (s: ScenarioResult) => `${n(s.endToEnd.notificationsPerSec)}/s at PREFETCH ${s.spec.prefetch}`;

/** A drain measured after its warm-up: its rate over the whole drain, shown beside the verdict's. */
const fromFirstClaim = (s: ScenarioResult) => {
  const warmUp = s.endToEnd.drainWarmUp;
  return warmUp ? ` (${n(warmUp.fromFirstClaimPerSec)}/s from its first claim, warm-up included)` : '';
};

function closedRateTarget(scenarios: ScenarioResult[], latency: number, goal: number): TargetCheck {
  const scenario = closedAt(scenarios, latency);
  return {
    target: `end to end ≥ ${n(goal)}/s with a ${latency} ms provider (closed loop)`,
    measured: scenario ? rateAt(scenario) : NOT_RUN,
    met: scenario ? scenario.endToEnd.notificationsPerSec >= goal : null,
  };
}

/** Counts only at the handler's default PREFETCH: a tuned handler says nothing about what a deployment gets. */
function defaultSettingsRateTarget(
  scenarios: ScenarioResult[],
  handler: HandlerDefaults,
  latency: number,
  goal: number,
): TargetCheck {
  const scenario = closedAt(scenarios, latency);
  const target = `end to end ≥ ${n(goal)}/s with a ${latency} ms provider on default settings (handler PREFETCH ${handler.prefetch}, closed loop)`;
  if (!scenario) return { target, measured: NOT_RUN, met: null };
  if (scenario.spec.prefetch !== handler.prefetch)
    return {
      target,
      measured: rateAt(scenario),
      met: null,
      reason: `does not count: PREFETCH ${scenario.spec.prefetch} is not the handler’s default ${handler.prefetch}`,
    };
  return { target, measured: rateAt(scenario), met: scenario.endToEnd.notificationsPerSec >= goal };
}

/**
 * One handler through Mailjet on the machine's broker: what `--drain` and `--unpaced` measure, not a
 * sweep's or a cluster's drain. The handler's rate is the unpaced drain's; a paced drain runs into the
 * Mailjet account's budget (MAILJET_MAX_CALLS_PER_SECOND), not the handler's limits, and is shown beside it.
 */
function targetDrains(scenarios: ScenarioResult[], latency: number) {
  const drains = scenarios.filter(
    (s) =>
      s.spec.mode === 'drain' &&
      s.spec.providerLatencyMs === latency &&
      !s.spec.name.startsWith('sweep') &&
      !s.spec.providers &&
      !s.spec.onCluster &&
      (s.spec.handlers ?? 1) === 1 &&
      !s.spec.historyRows,
  );
  return {
    paced: drains.find((s) => s.spec.mailjetCallsPerSecond === undefined),
    unpaced: drains.find((s) => s.spec.mailjetCallsPerSecond !== undefined),
  };
}

function drainTarget(scenarios: ScenarioResult[], latency: number, goal: number): TargetCheck {
  const { paced, unpaced } = targetDrains(scenarios, latency);
  const target = `the handler draining alone ≥ ${n(goal)}/s with a ${latency} ms provider`;
  if (!unpaced)
    return {
      target,
      measured: paced ? `${rateAt(paced)}${fromFirstClaim(paced)}` : NOT_RUN,
      met: paced ? paced.endToEnd.notificationsPerSec >= goal : null,
    };
  const besidePaced = paced ? `; ${n(paced.endToEnd.notificationsPerSec)}/s at the default budget` : '';
  return {
    target,
    measured: `${rateAt(unpaced)}, Mailjet call budget lifted${fromFirstClaim(unpaced)}${besidePaced}`,
    met: unpaced.endToEnd.notificationsPerSec >= goal,
  };
}

/** Of the notifications an open-loop scenario offers, the share it must accept for its latency to count. */
const MIN_ACCEPTED_SHARE = 0.99;

function openLoopLatencyTarget(scenarios: ScenarioResult[], checkoutsPerSecond: number, p99Ms: number): TargetCheck {
  const scenario = scenarios.find(
    (s) => s.spec.mode === 'open' && s.spec.checkoutsPerSecond === checkoutsPerSecond && !s.spec.historyRows,
  );
  const target =
    `at ${n(checkoutsPerSecond * 2)} notifications/s offered (open loop, ${n(checkoutsPerSecond)} checkouts/s), ` +
    `accepted → sent p99 ≤ ${p99Ms} ms`;
  if (scenario?.spec.mode !== 'open') return { target, measured: NOT_RUN, met: null };
  const p99 = scenario.endToEnd.acceptedToSentMs.p99;
  // The latency of what was accepted says nothing of a rate if most of it was turned away or never started.
  const offered = checkoutsPerSecond * scenario.spec.seconds * 2;
  const taken = scenario.notifications >= offered * MIN_ACCEPTED_SHARE;
  return {
    target,
    measured:
      `p99 ${n(p99)} ms (${scenario.spec.providerLatencyMs} ms provider), ` +
      `${n(scenario.notifications)} of ${n(offered)} offered accepted`,
    met: taken && p99 <= p99Ms,
  };
}

function cpuTarget(scenarios: ScenarioResult[], latency: number, goalMs: number): TargetCheck {
  const scenario = closedAt(scenarios, latency);
  const ours = scenario ? oursPerNotificationMs(scenario) : undefined;
  return {
    target: `CPU per notification, all processes (“ours”), ≤ ${goalMs} ms with a ${latency} ms provider (closed loop)`,
    measured: ours === undefined ? NOT_RUN : `${ours.toFixed(2)} ms`,
    met: ours === undefined ? null : ours <= goalMs,
  };
}

function lossTarget(scenarios: ScenarioResult[]): TargetCheck {
  return {
    target: 'no notification lost or duplicated in any run',
    measured:
      scenarios.length === 0
        ? NOT_RUN
        : scenarios.map((s) => `${s.spec.name}: ${s.verification.ok && s.complete ? 'ok' : 'PROBLEM'}`).join(', '),
    met: scenarios.length > 0 ? scenarios.every((s) => s.verification.ok && s.complete) : null,
  };
}

/** The run's host against the one the targets were set on, and the targets' figures scaled to it. */
function hostSpeedLines(run: RunResult): string[] {
  const ratios = baselineRatios(run.baseline);
  const speed = hostSpeed(run.baseline);
  if (speed === undefined || ratios === undefined) return [];
  const closed0 = closedAt(run.scenarios, 0);
  const closed100 = closedAt(run.scenarios, 100);
  const { unpaced } = targetDrains(run.scenarios, 0);
  const measured: Array<[label: string, value: number | undefined, unit: ScaledFigure['unit']]> = [
    ['closed-0ms', closed0?.endToEnd.notificationsPerSec, '/s'],
    ['closed-100ms', closed100?.endToEnd.notificationsPerSec, '/s'],
    ['the unpaced drain', unpaced?.endToEnd.notificationsPerSec, '/s'],
    ['CPU per notification', closed0 && oursPerNotificationMs(closed0), 'ms'],
  ];
  const figures = measured.flatMap(([label, value, unit]) => (value === undefined ? [] : [{ label, value, unit }]));
  const scaled = figures
    .map((figure) => scaleToTargetsHost(figure, speed))
    .map(({ label, value, unit }) =>
      unit === 'ms' ? `${label} ${value.toFixed(2)} ms` : `${label} ${n(Math.round(value))}/s`,
    );
  return [
    '',
    `This run's host is ${speed.toFixed(2)} times as fast as the one the targets were set on (${TARGETS_HOST.setOn}: ` +
      `${n(TARGETS_HOST.publishesPerSec)} publishes/s, ${n(TARGETS_HOST.postgresPairsPerSec)} pairs/s; the geometric mean of ` +
      `the two baselines’ ratios, ${ratios.publishes.toFixed(2)} and ${ratios.pairs.toFixed(2)}). The targets are absolute ` +
      'and judged as measured above; scaled to that host, a rough guide ' +
      `for comparing runs: ${scaled.length > 0 ? scaled.join(', ') : 'no scenario to scale'}.`,
  ];
}

/** Names of the CPU table that are not one of our processes. */
const NOT_OURS = new Set(['other work on the machine', 'machine total', BENCH_CHECKS]);

/**
 * The CPU table's “ours”: the pipeline's processes, the load generator, the services' PostgreSQL
 * backends and PostgreSQL's own processes; not the bench's polling and checks.
 */
export function oursPerNotificationMs(s: ScenarioResult): number {
  return Object.entries(s.cpu.perNotificationMs)
    .filter(([name]) => !NOT_OURS.has(name))
    .reduce((sum, [, ms]) => sum + ms, 0);
}

const p = (s: LatencySummary, ...keys: Array<'p50' | 'p95' | 'p99' | 'max'>) => keys.map((k) => s[k]).join(' / ');
const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const n = (value: number) => value.toLocaleString('en');

function load(s: ScenarioResult): string {
  const provider = s.spec.providers
    ? `, via ${s.spec.providers}`
    : s.spec.mailjetCallsPerSecond
      ? `, ${n(s.spec.mailjetCallsPerSecond)} Mailjet calls/s allowed`
      : '';
  if (s.spec.mode === 'open') return `open, ${s.spec.checkoutsPerSecond} checkouts/s${provider}`;
  const flows = s.spec.flow === 'cart-with-tickets' ? 'flows of 2 requests (cart created with its ticket)' : 'flows';
  return `${s.spec.mode === 'drain' ? 'drain (handler alone)' : `closed, ${s.spec.concurrency} ${flows}`}${provider}`;
}

/** Accepted notifications, and what was planned when a bound or a skipped start made them fewer. */
function count(s: ScenarioResult): string {
  const planned =
    s.spec.mode === 'open'
      ? s.spec.checkoutsPerSecond * s.spec.seconds * 2
      : s.spec.notifications + (s.spec.drainWarmUp ?? 0);
  return s.notifications >= planned ? n(s.notifications) : `${n(s.notifications)} of ${n(planned)}`;
}

export function renderMarkdown(run: RunResult): string {
  const m = run.machine;
  const lines = [
    `# Benchmark results (${run.runId})`,
    '',
    `Run ${run.startedAt} → ${run.finishedAt}: \`${run.command}\`${run.aborted ? ` — **ABORTED: ${run.aborted}**` : ''}`,
    '',
    `Services built from ${run.source?.commit ?? 'an unrecorded commit'}${run.source?.uncommittedServiceChanges ? ' with uncommitted changes in their sources' : ''}; ` +
      'they log at their default level, info (a line per request and per email sent), into files, unless the command sets LOG_LEVEL.',
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, RabbitMQ ${m.rabbitmq} (${m.erlang}), ` +
      `PostgreSQL ${m.postgresql} (autovacuum ${m.autovacuum ?? 'not recorded'}); load average ${m.loadAverageAtStart} at the start (other work shares the cores).`,
    '',
    '## Pipeline',
    '',
    '| scenario | provider ms | prefetch | load | notifications | REST req/s (errors) | REST p50 / p99 ms | end to end /s | accepted → sent p50 / p95 / p99 ms | of RabbitMQ publish / consume | of PG pairs | lost / dup |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const s of run.scenarios) {
    const v = vsBaseline(s, run.baseline);
    const check = s.verification;
    const lost = check.notSent + check.providerMissing;
    const dup = check.providerDuplicated + check.unexpectedRows + check.providerUnexpected;
    lines.push(
      `| ${s.spec.name} | ${s.spec.providerLatencyMs} | ${s.spec.prefetch} | ${load(s)} | ${count(s)} | ` +
        `${n(s.ingest.requestsPerSec)} (${n(s.ingest.errors)}) | ${p(s.ingest.latencyMs, 'p50', 'p99')} | **${n(s.endToEnd.notificationsPerSec)}** | ` +
        `${p(s.endToEnd.acceptedToSentMs, 'p50', 'p95', 'p99')} | ${pct(v.rabbitPublish)} / ${pct(v.rabbitConsume)} | ` +
        `${pct(v.postgresPairs)} | ${lost} / ${dup}${check.ok && s.complete ? ' ✓' : ' ✗'} |`,
    );
  }
  for (const s of run.scenarios) {
    if (s.spec.mode !== 'open' || !s.ingest.flowLatencyMs) continue;
    const flows = s.spec.checkoutsPerSecond * s.spec.seconds;
    const notStarted = s.ingest.flowsNotStarted ?? 0;
    const answered = s.ingest.flowLatencyMs.count;
    lines.push(
      '',
      `${s.spec.name}: ${n(flows)} checkout flows offered over ${s.spec.seconds} s, ${n(notStarted)} not started ` +
        `(512 already in flight, or past the run's deadline), ${n(flows - notStarted - answered)} failed (a request ` +
        `refused or in error), ${n(answered)} answered; scheduled start → checkout answered p50 / p99 ` +
        `${p(s.ingest.flowLatencyMs, 'p50', 'p99')} ms (of the answered flows).`,
    );
  }
  const warmed = run.scenarios.filter((s) => s.spec.warmUpNotifications);
  if (warmed.length > 0)
    lines.push(
      '',
      `${warmed.map((s) => s.spec.name).join(', ')}: measured after a warm-up of ${n(warmed[0]?.spec.warmUpNotifications ?? 0)} ` +
        'notifications through the same fresh services (closed loop), every one settled and left out of every figure.',
    );
  const warmedDrains = run.scenarios.filter((s) => s.endToEnd.drainWarmUp);
  if (warmedDrains.length > 0)
    lines.push(
      '',
      `${warmedDrains.map((s) => s.spec.name).join(', ')}: the handler, started afresh, first drains ` +
        `${n(warmedDrains[0]?.spec.drainWarmUp ?? 0)} notifications to warm up; the drain's rate and its CPU per ` +
        'notification count from the moment those are settled (its notifications, stage timings and checks take ' +
        'every one). From the first claim, warm-up included: ' +
        `${warmedDrains.map((s) => `${s.spec.name} ${n(s.endToEnd.drainWarmUp?.fromFirstClaimPerSec ?? 0)}/s`).join(', ')}.`,
    );
  const coldDrains = run.scenarios.filter((s) => s.spec.mode === 'drain' && !s.endToEnd.drainWarmUp);
  if (coldDrains.length > 0)
    lines.push(
      '',
      `${coldDrains.map((s) => s.spec.name).join(', ')}: measured from the handler's first claim, started afresh.`,
    );
  const cut = run.scenarios.filter((s) => s.spec.mode === 'closed' && s.notifications < s.spec.notifications);
  for (const s of cut) {
    if (s.spec.mode === 'closed')
      lines.push('', `${s.spec.name}: the load phase hit its ${s.spec.maxSeconds} s bound.`);
  }
  lines.push(
    '',
    '## Where the time goes (per notification, ms, p50 / p99) and each stage’s own rate',
    '',
    '| scenario | built → written | written → relayed | relayed → claimed | claimed → sent | sent → settled | ingest /s | relay /s | handler /s | drain after last accept ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const s of run.scenarios) {
    lines.push(
      `| ${s.spec.name} | ${p(s.stages.builtToWritten, 'p50', 'p99')} | ${p(s.stages.writtenToRelayed, 'p50', 'p99')} | ` +
        `${p(s.stages.relayedToClaimed, 'p50', 'p99')} | ` +
        `${p(s.stages.claimedToSent, 'p50', 'p99')} | ${p(s.stages.sentToSettled, 'p50', 'p99')} | ` +
        `${n(s.stageRates.ingestNotificationsPerSec)} | ${n(s.stageRates.relayPerSec)} | ${n(s.stageRates.handlerPerSec)} | ` +
        `${n(s.endToEnd.drainAfterIngestMs)} |`,
    );
  }
  lines.push(...renderBatches(run.scenarios));
  lines.push(...renderCpu(run.scenarios, run.machine.nproc));
  lines.push(...renderMemory(run.scenarios));
  lines.push(...renderDeadRows(run.scenarios, run.machine.autovacuum));
  lines.push(...renderCluster(run.scenarios));
  lines.push('', '## Baseline (same run, same machine, amqplib / pg alone)', '');
  const b = run.baseline;
  if (b.rabbitmq) {
    lines.push(
      `- RabbitMQ, quorum queue, ${n(b.rabbitmq.messages)} persistent messages of ${b.rabbitmq.messageBytes} B (the outbox's own bytes): ` +
        `publish with confirms (batches of ${b.rabbitmq.confirmBatch}) **${n(b.rabbitmq.publishConfirmPerSec)} msg/s**; ` +
        `consume and ack (prefetch ${b.rabbitmq.prefetch}) **${n(b.rabbitmq.consumeAckPerSec)} msg/s**.`,
    );
  }
  for (const pg of b.postgres) {
    lines.push(
      `- PostgreSQL, ${n(pg.pairs)} insert-then-update pairs on a table shaped like notifications, pool ${pg.pool}: **${n(pg.pairsPerSec)} pairs/s**.`,
    );
  }
  if (b.error) lines.push(`- Baseline error: ${b.error}`);
  lines.push('', '## Targets', '', '| target | measured | met |', '| --- | --- | --- |');
  for (const t of run.targets)
    lines.push(
      `| ${t.target} | ${t.measured} | ${t.met === null ? (t.reason ?? 'not run') : t.met ? 'yes' : '**no**'} |`,
    );
  lines.push(...hostSpeedLines(run));
  const problems = run.scenarios.flatMap((s) =>
    [...s.verification.problems, ...(s.complete ? [] : [s.completion]), ...s.ingest.errorSamples].map(
      (problem) => `- ${s.spec.name}: ${problem}`,
    ),
  );
  if (problems.length > 0) lines.push('', '## Problems and request errors (a few samples)', '', ...problems);
  const profiled = run.scenarios.filter((s) => s.profiles);
  if (profiled.length > 0)
    lines.push('', '## CPU profiles (self time, busy CPU only)', '', ...profiled.flatMap(renderProfiles));
  lines.push(
    '',
    'built = the message’s occurredAt, set just before the API’s write; written = accepted = the start of the one',
    'statement that wrote the change and its outbox row (outbox.created_at); relayed = BEGIN of the relay batch that took the row',
    '(outbox.published_at), so publish and confirm fall in “relayed → claimed”; claimed = the handler’s row insert',
    '(notifications.created_at); sent = the provider answered (notifications.sent_at); settled = the row marked sent',
    '(updated_at). End to end /s counts from the first request handed to the API to the last sent (drain scenarios: from',
    'the handler’s first claim, or once its warm-up is settled, counting the sends after it). Each checkout flow is 3 requests and',
    '2 notifications (cart-with-tickets: 2 requests, the cart created with its ticket).',
    '',
  );
  return lines.join('\n');
}

function renderProfiles(s: ScenarioResult): string[] {
  const out: string[] = [];
  for (const [process, summary] of Object.entries(s.profiles ?? {})) {
    out.push(
      `### ${s.spec.name}: ${process} (busy ${n(summary.busyMs)} ms of ${n(summary.wallMs)} ms)`,
      '',
      '| area | self ms | % |',
      '| --- | ---: | ---: |',
      ...summary.byArea.slice(0, 10).map((row) => `| ${row.name} | ${n(row.ms)} | ${row.percent} |`),
      '',
      '| function | where | self ms | % |',
      '| --- | --- | ---: | ---: |',
      ...summary.topFunctions.map((row) => `| ${row.name} | ${row.where} | ${n(row.ms)} | ${row.percent} |`),
      '',
    );
  }
  return out;
}

/**
 * The CPU tables' columns, in this order whatever order a run met them in: the PostgreSQL backends
 * are listed as they are first seen, which changes from run to run, and two runs' tables must
 * read alike. Components not named here (a second handler of a cluster run) follow, by name.
 */
const COMPONENT_ORDER = [
  'sandbox',
  'handler',
  'ticketing',
  'bench (load generator)',
  'rabbitmq',
  'postgresql ← handler',
  'postgresql ← ticketing',
  BENCH_CHECKS,
  POSTGRES_SERVER,
];

function inComponentOrder(names: Iterable<string>): string[] {
  const rank = (name: string) => {
    const index = COMPONENT_ORDER.indexOf(name);
    return index === -1 ? COMPONENT_ORDER.length : index;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** CPU ms per notification by component: what the two cores are spent on. */
function renderCpu(scenarios: ScenarioResult[], cores: number): string[] {
  const names = inComponentOrder(scenarios.flatMap((s) => Object.keys(s.cpu.componentMs)));
  if (names.length === 0) return [];
  return [
    '',
    '## CPU per notification (ms, from /proc: first request → last settled; drains: the drain only)',
    '',
    '“ours” adds up the pipeline’s processes, the load generator, the services’ PostgreSQL backends and PostgreSQL’s own processes',
    '(not the bench’s own checks, shown apart); “other” is the',
    'rest of the machine’s busy time (other people’s work on the same cores, and database connections that closed',
    'within the window); “ceiling” is what “ours” would allow',
    `if the ${cores} cores were the pipeline’s alone.`,
    '',
    `| scenario | ${names.join(' | ')} | ours | other | ceiling /s | machine busy % |`,
    `| --- | ${names.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`,
    ...scenarios.map((s) => {
      const per = s.cpu.perNotificationMs;
      const ours = oursPerNotificationMs(s);
      const ceiling = ours > 0 ? Math.round((cores * 1_000) / ours) : 0;
      const busy = s.cpu.wallMs > 0 ? (s.cpu.machineBusyMs / s.cpu.wallMs / cores) * 100 : 0;
      const cells = names.map((name) => fixed(per[name]));
      return `| ${s.spec.name} | ${cells.join(' | ')} | ${fixed(ours)} | ${fixed(per['other work on the machine'])} | ${n(ceiling)} | ${busy.toFixed(0)} |`;
    }),
    ...renderKernelShare(scenarios, names),
  ];
}

/**
 * How much of each component's CPU the kernel spent (system time). A CPU profile counts a thread
 * preempted inside a system call as time in that call, so `writev` can lead a profile whose
 * process spends most of its CPU in user space: this says which it is.
 */
function renderKernelShare(scenarios: ScenarioResult[], names: string[]): string[] {
  const split = scenarios.filter((s) => s.cpu.componentKernelMs);
  if (split.length === 0) return [];
  const share = (s: ScenarioResult, name: string) => {
    const total = s.cpu.componentMs[name] ?? 0;
    return total > 0 ? `${Math.round(((s.cpu.componentKernelMs?.[name] ?? 0) / total) * 100)}` : '—';
  };
  return [
    '',
    'Of each component’s CPU, the share spent in the kernel (system time, %): system calls, the network stack,',
    'scheduling; the rest is the process’s own code.',
    '',
    `| scenario | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---:').join(' | ')} |`,
    ...split.map((s) => `| ${s.spec.name} | ${names.map((name) => share(s, name)).join(' | ')} |`),
  ];
}

/** Resident memory per process: the peak shows a leak or a burst, the end what stays after the load. */
function renderMemory(scenarios: ScenarioResult[]): string[] {
  // Runs recorded before memory was sampled have none.
  const sampled = scenarios.filter((s) => s.memory);
  const names = [...new Set(sampled.flatMap((s) => Object.keys(s.memory.byProcess)))];
  if (names.length === 0) return [];
  const mib = (value: number | null | undefined) => (value === null || value === undefined ? '—' : value.toFixed(1));
  return [
    '',
    '## Memory (MiB)',
    '',
    `Resident memory (VmRSS of /proc/<pid>/status), sampled about once a second from the load’s start to the last settle`,
    '(drains: from the handler’s stop), per process: peak / at the end. Processes of one name add up (RabbitMQ nodes);',
    `“${POSTGRES_BACKENDS}” adds up the run database’s backends, each of which counts the shared buffers it touched.`,
    '',
    `| scenario | ${names.join(' | ')} | samples |`,
    `| --- | ${names.map(() => '---:').join(' | ')} | ---: |`,
    ...sampled.map((s) => {
      const cells = names.map((name) => {
        const use = s.memory.byProcess[name];
        return use ? `${mib(use.peakMiB)} / ${mib(use.endMiB)}` : '';
      });
      return `| ${s.spec.name} | ${cells.join(' | ')} | ${s.memory.samples} |`;
    }),
  ];
}

/** What the history costs a server whose autovacuum is off: dead rows the services' maintenance has yet to clear. */
function renderDeadRows(scenarios: ScenarioResult[], autovacuum: string | undefined): string[] {
  // Runs recorded before the tables were read have none.
  const read = scenarios.filter((s) => s.tables);
  if (read.length === 0) return [];
  const short = (table: string) => table.split('.').at(-1) as string;
  return [
    '',
    '## Dead rows at the end (vacuums so far)',
    '',
    `PostgreSQL autovacuum: **${autovacuum ?? 'not recorded'}**. Per maintained table, once every notification of the scenario settled:`,
    'pg_stat_user_tables.n_dead_tup, and in brackets the vacuums run on it so far (by the services’ maintenance or autovacuum).',
    '',
    `| scenario | ${WATCHED_TABLES.map(short).join(' | ')} |`,
    `| --- | ${WATCHED_TABLES.map(() => '---:').join(' | ')} |`,
    ...read.map((s) => {
      const cells = WATCHED_TABLES.map((table) => {
        const rows = s.tables[table];
        return rows ? `${n(rows.dead)} (${rows.vacuums})` : '—';
      });
      return `| ${s.spec.name} | ${cells.join(' | ')} |`;
    }),
  ];
}

const fixed = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));

/** --cluster: each drain beside the single-node one of the same latency. */
function renderCluster(scenarios: ScenarioResult[]): string[] {
  if (!scenarios.some((s) => s.spec.onCluster)) return [];
  const single = (latency: number) =>
    scenarios.find((s) => !s.spec.onCluster && s.spec.mode === 'drain' && s.spec.providerLatencyMs === latency);
  return [
    '',
    '## On a three-node cluster',
    '',
    CLUSTER_NOTE,
    '',
    '| scenario | broker | handlers | drain /s | vs single node | RabbitMQ ms CPU / notification | ours ms CPU / notification |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...scenarios.map((s) => {
      const reference = single(s.spec.providerLatencyMs);
      const rate = s.endToEnd.notificationsPerSec;
      const versus = reference ? pct(fraction(rate, reference.endToEnd.notificationsPerSec)) : '';
      return (
        `| ${s.spec.name} | ${s.spec.onCluster ? '3 nodes' : '1 node'} | ${s.spec.handlers ?? 1} | **${n(rate)}** | ${versus} | ` +
        `${fixed(s.cpu.perNotificationMs.rabbitmq)} | ${fixed(oursPerNotificationMs(s))} |`
      );
    }),
  ];
}

/** Runs recorded before the bench counted batches have none: their table is left out. */
function renderBatches(scenarios: readonly ScenarioResult[]): string[] {
  const counted = scenarios.flatMap(({ spec, stages: { batches } }) => (batches ? [{ name: spec.name, batches }] : []));
  if (counted.length === 0) return [];
  return [
    '',
    'Notifications per transaction downstream of the API, on average: per relay batch (claimed, published, confirmed,',
    'committed), per handler claim, per settlement and per provider call (emails; the sandbox counts the calls). What each',
    'transaction costs the relay, RabbitMQ, the handler, PostgreSQL and the provider whatever its size is shared by that many.',
    '',
    '| scenario | per relay batch | per handler claim | per settlement | per provider call |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...counted.map(
      ({ name, batches }) =>
        `| ${name} | ${batches.relay} | ${batches.claim} | ${batches.settlement} | ${batches.providerCall ?? '—'} |`,
    ),
  ];
}
