import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  preloadHistory,
  queueDepth,
  type ServiceProcess,
  type System,
  sandboxClient,
} from '@notify/test-support/system/index.js';
import pg from 'pg';
import type { SampleMessage } from './baseline.js';
import { brokerPids, type CpuSnapshot, type CpuUse, cpuBetween, processCpu, snapshotCpu } from './cpu-accounting.js';
import { type ProfileSummary, summarizeProfilesIn } from './cpu-profile.js';
import {
  type ClosedDrainWindow,
  type DrainWarmUp,
  type DrainWindow,
  drainFigures,
  openDrainWindow,
} from './drain-window.js';
import { HISTORY_VACUUM, historySize } from './history.js';
import { AMQP_URL } from './infrastructure.js';
import { type FlowKind, type LoadResult, runClosedLoop, runOpenLoop } from './load.js';
import { type MemoryUse, sampleMemory, sampleMemoryEvery } from './memory.js';
import {
  countSentAfter,
  emailsPerCall,
  markRunRows,
  type RunRows,
  readStageTimings,
  type StageRates,
  type StageTimings,
  stageRates,
  waitForPublished,
  waitForSettled,
} from './pipeline.js';
import { type LatencySummary, ratePerSecond, summarize } from './stats.js';
import { startBenchSystem } from './system.js';
import { readTableRows, type TableRows } from './table-rows.js';
import { type Verification, verifyDelivery } from './verify.js';

export type ScenarioSpec = {
  name: string;
  providerLatencyMs: number;
  prefetch: number;
  profile: boolean;
  /**
   * Rows of past traffic loaded before the run (--history): this many notifications with their
   * attempts, published outbox rows, idempotency keys and carts (`historySize`). 0 or absent: empty tables.
   */
  historyRows?: number;
  /** How a checkout flow goes through the API (load.ts); three requests unless set. */
  flow?: FlowKind;
  /** Notifications through the fresh services, all settled, before the measurement starts (`warmUp`). */
  warmUpNotifications?: number;
  /**
   * A drain's warm-up: the handler, started afresh, drains this many more notifications first, and the
   * drain's rate and CPU count from the moment they are settled (`openDrainWindow`).
   */
  drainWarmUp?: number;
  /** The handler's EMAIL_PROVIDERS; Mailjet alone (the default) when unset. */
  providers?: string;
  /**
   * The handler's MAILJET_MAX_CALLS_PER_SECOND; its own default (a Mailjet account's pace) when
   * unset. Raised far above what the cores allow, the drain measures the handler, not the pace.
   */
  mailjetCallsPerSecond?: number;
  /** Handler processes competing on the queue (1 by default). */
  handlers?: number;
  /** On the run's RabbitMQ cluster (`ScenarioContext.cluster`) rather than the machine's broker. */
  onCluster?: boolean;
  /** --ticketing-env / --handler-env. */
  ticketingEnv?: Record<string, string>;
  handlerEnv?: Record<string, string>;
} /** drain: the handler is stopped while the API takes the load, then started to drain the queue alone. */ & (
  | { mode: 'closed' | 'drain'; notifications: number; concurrency: number; maxSeconds: number }
  | { mode: 'open'; checkoutsPerSecond: number; seconds: number }
);

export type ScenarioResult = {
  spec: ScenarioSpec;
  notifications: number;
  ingest: {
    requests: number;
    errors: number;
    errorSamples: string[];
    seconds: number;
    requestsPerSec: number;
    latencyMs: LatencySummary;
    /** Open loop: scheduled start → checkout answered, per flow. */
    flowLatencyMs?: LatencySummary;
    flowsNotStarted?: number;
  };
  endToEnd: {
    /**
     * First request handed to the API → last notification sent, s. A drain: its first claim → its
     * last send, or with a warm-up, the end of the warm-up → its last send.
     */
    seconds: number;
    notificationsPerSec: number;
    /** A drain with a warm-up: what it left out, and its rate from the handler's first claim, warm-up included. */
    drainWarmUp?: DrainWarmUp;
    /** Last notification accepted → last sent: how far the pipeline trails the API. */
    drainAfterIngestMs: number;
    acceptedToSentMs: LatencySummary;
  };
  /** `batches` is missing from runs recorded before the bench counted them (2026-12-03). */
  stages: Omit<StageTimings, 'spans' | 'acceptedToSent' | 'batches'> & Partial<Pick<StageTimings, 'batches'>>;
  stageRates: StageRates;
  /** CPU each component used from the first request to the last settle, and per notification. */
  cpu: CpuUse & { perNotificationMs: Record<string, number> };
  /** Resident memory of each process, sampled about once a second from the load's start to the last settle. */
  memory: MemoryUse;
  /** Each maintained table's live and dead rows once everything settled, and its vacuums so far. */
  tables: Record<string, TableRows>;
  complete: boolean;
  completion: string;
  verification: Verification;
  profiles?: Record<string, ProfileSummary>;
};

export type ScenarioContext = {
  deadline: number;
  outDir: string;
  /** Filled with a few outbox rows of the first scenario: the baselines publish those bytes. */
  samples: SampleMessage[];
  log: (line: string) => void;
  /** The run's three-node cluster, for scenarios `onCluster`: its nodes' AMQP URLs. */
  cluster?: { amqpUrls: string[] };
};

/** About once a second: enough to catch a peak over a scenario's tens of seconds, cheap on two cores. */
const MEMORY_SAMPLE_MS = 1_000;

/**
 * The harness's system (own database, topology and ports), the load, the wait until every
 * accepted notification is settled, the timings and CPU, the checks; then all of it gone.
 */
export async function runScenario(spec: ScenarioSpec, context: ScenarioContext): Promise<ScenarioResult> {
  const profileDir = spec.profile ? join(context.outDir, 'profiles', spec.name) : undefined;
  if (spec.onCluster && !context.cluster) throw new Error(`${spec.name} needs the run's cluster`);
  const brokerUrls = spec.onCluster ? context.cluster?.amqpUrls : undefined;
  let memory: ReturnType<typeof sampleMemoryEvery> | undefined;
  let passed = false;
  const system = await startBenchSystem({
    label: `bench-${spec.name}`,
    prefetch: spec.prefetch,
    providerLatencyMs: spec.providerLatencyMs,
    providers: spec.providers,
    mailjetCallsPerSecond: spec.mailjetCallsPerSecond,
    profileDir,
    brokerUrls,
    handlers: spec.handlers,
    ticketingEnv: spec.ticketingEnv,
    handlerEnv: spec.handlerEnv,
  });
  try {
    context.log(`  system ${system.id} up (database ${system.databaseName}, prefix ${system.prefix})`);
    if (spec.historyRows) await loadHistory(system, spec.historyRows, context);
    if (spec.warmUpNotifications && spec.mode !== 'drain')
      await warmUp(system, spec, spec.warmUpNotifications, context);
    const run = await markRunRows(system.db);
    const components = () => ({
      processes: system.processes.map((service) => ({ name: service.name, pid: service.pid })),
      db: system.db,
      databaseName: system.databaseName,
      brokerPorts: (brokerUrls ?? [AMQP_URL]).map((url) => Number(new URL(url).port || 5672)),
    });
    if (spec.mode === 'drain') for (const handler of system.handlers) await handler.stop(30_000);
    const brokers = await brokerPids(components());
    memory = sampleMemoryEvery(MEMORY_SAMPLE_MS, () => sampleMemory(components(), brokers));
    // The tally of every email is read in one answer at the end (about 50 bytes an id, megabytes
    // for a long run): a longer bound than the client's default.
    const sandbox = sandboxClient(system.sandboxUrl, 120_000);
    await sandbox.resetStats();
    let cpuBefore = await snapshotCpu(components());
    const load = await drive(spec, system.ticketingUrl, context.deadline, spec.drainWarmUp ?? 0);
    context.log(`  load done: ${load.requests} requests, ${load.errors} errors, ${load.trackingIds.length} accepted`);
    let window: DrainWindow | undefined;
    if (spec.mode === 'drain') {
      const queued = await waitForPublished(system.db, load.trackingIds.length, { deadline: context.deadline, run });
      context.log(`  ${queued.progress.published} published with the handler stopped; starting it`);
      // The window is the drain alone: the handlers with the machine to themselves.
      cpuBefore = await startDraining(system.handlers, () => snapshotCpu(components()));
      // A load cut short by its bound may leave nothing past the warm-up: the drain is measured whole then.
      if (spec.drainWarmUp && load.trackingIds.length > spec.drainWarmUp) {
        window = await openDrainWindow(system.db, spec.drainWarmUp, () => snapshotCpu(components()), {
          deadline: context.deadline,
          run,
        });
        cpuBefore = window.cpuBefore;
        context.log(`  warm-up: ${window.settledBefore} settled; the drain's window opens`);
      }
    }
    const settled = await waitForSettled(system.db, load.trackingIds.length, { deadline: context.deadline, run });
    const cpu = cpuBetween(cpuBefore, await snapshotCpu(components()));
    const closedWindow = window && { ...window, sends: await countSentAfter(system.db, run, window.openedAt) };
    const memoryUse = await memory.stop();
    context.log(`  ${settled.reason}: ${settled.progress.sent} sent, ${settled.progress.failed} failed`);
    const timings = await readStageTimings(system.db, run);
    const calls = (await sandbox.stats('mailjet')).calls.total + (await sandbox.stats('sendgrid')).calls.total;
    const providerCall = emailsPerCall(settled.progress.sent + settled.progress.failed, calls);
    if (providerCall !== undefined) timings.batches.providerCall = providerCall;
    const tables = await readTableRows(system.db);
    if (context.samples.length === 0) context.samples.push(...(await readSamples(system.db, run)));

    // SIGTERM now: a clean exit is part of the check, and it writes the CPU profiles.
    const exits: Record<string, number | string> = {};
    for (const service of [...system.ticketings, ...system.handlers]) {
      const exit = await service.stop(30_000);
      exits[service.name] = exit?.code ?? exit?.signal ?? 'not running';
    }
    const queues = {
      main: (await queueDepth(system.amqpUrl, system.topology.queue)).messages,
      deadLetter: (await queueDepth(system.amqpUrl, system.topology.deadLetterQueue)).messages,
    };
    const verification = await verifyDelivery(system.db, sandbox, load.trackingIds, { queues, exits }, run);
    const profiles = profileDir ? await summarizeProfilesIn(profileDir) : undefined;
    passed = verification.ok;
    const drain = spec.mode === 'drain' ? { window: closedWindow } : undefined;
    return {
      ...assemble(spec, load, timings, settled, verification, { cpu, memory: memoryUse }, profiles, drain),
      tables,
    };
  } finally {
    await memory?.stop();
    await system.release();
    // Tens of MB of info lines a scenario: kept only when something went wrong, to read.
    if (passed) await rm(system.logDir, { recursive: true, force: true });
  }
}

/**
 * Fresh processes compile their hot paths, open their pools' connections and prepare their
 * statements on the first requests, which a scenario of seconds would measure instead of the
 * steady state (bench/README.md, "Warm-up"). A closed loop of `notifications` first, every one
 * settled, and the sandbox's store emptied: the run's rows, its CPU window and its checks all
 * start after it.
 */
async function warmUp(system: System, spec: ScenarioSpec, notifications: number, context: ScenarioContext) {
  const before = await markRunRows(system.db);
  const load = await runClosedLoop(system.ticketingUrl, {
    flow: spec.flow,
    flows: Math.ceil(notifications / 2),
    concurrency: spec.mode === 'open' ? 64 : spec.concurrency,
    deadline: Math.min(context.deadline, Date.now() + 60_000),
  });
  const settled = await waitForSettled(system.db, load.trackingIds.length, { deadline: context.deadline, run: before });
  // A refusal (503 at a low MAX_WAITING_REQUESTS) is fine here: what was accepted must settle.
  if (!settled.complete || load.trackingIds.length === 0)
    throw new Error(`warm-up: ${settled.reason}, ${load.errors} requests failed (${load.errorSamples.join('; ')})`);
  await sandboxClient(system.sandboxUrl).clearMessages();
  context.log(`  warm-up: ${load.trackingIds.length} notifications sent and settled, ${load.errors} requests failed`);
}

/**
 * Starts every handler at once: the drain rate is theirs together from the first claim. The CPU
 * window opens when the first one is ready; a later one's start-up, before it was ready, stays out.
 */
async function startDraining(handlers: ServiceProcess[], snapshot: () => Promise<CpuSnapshot>): Promise<CpuSnapshot> {
  let opened: Promise<CpuSnapshot> | undefined;
  const readyAt = new Map<string, number>();
  await Promise.all(
    handlers.map(async (handler) => {
      await handler.start();
      const first = opened === undefined;
      opened ??= snapshot();
      if (!first && handler.pid) readyAt.set(handler.name, (await processCpu(handler.pid)).ms);
    }),
  );
  const before = await (opened as Promise<CpuSnapshot>);
  for (const [name, ms] of readyAt) before.byComponent[name] = ms;
  return before;
}

function drive(spec: ScenarioSpec, url: string, deadline: number, extraNotifications: number): Promise<LoadResult> {
  if (spec.mode !== 'open') {
    const bound = Math.min(deadline, Date.now() + spec.maxSeconds * 1_000);
    return runClosedLoop(url, {
      flow: spec.flow,
      flows: Math.ceil((spec.notifications + extraNotifications) / 2),
      concurrency: spec.concurrency,
      deadline: bound,
    });
  }
  return runOpenLoop(url, { rate: spec.checkoutsPerSecond, seconds: spec.seconds, maxInFlight: 512, deadline });
}

function assemble(
  spec: ScenarioSpec,
  load: LoadResult,
  timings: StageTimings,
  settled: Awaited<ReturnType<typeof waitForSettled>>,
  verification: Verification,
  { cpu, memory }: { cpu: CpuUse; memory: MemoryUse },
  profiles: Record<string, ProfileSummary> | undefined,
  drain: { window: ClosedDrainWindow | undefined } | undefined,
): Omit<ScenarioResult, 'tables'> {
  const notifications = load.trackingIds.length;
  const ingestMs = load.finishedAt - load.startedAt;
  const { acceptedToSent, spans, ...stages } = timings;
  const measured = drain
    ? drainFigures({ ...drain, spans, sentOnce: verification.sentOnce })
    : { endToEndMs: spans.lastSent - load.startedAt, sent: verification.sentOnce, warmUp: undefined };
  return {
    spec,
    notifications,
    ingest: {
      requests: load.requests,
      errors: load.errors,
      errorSamples: load.errorSamples,
      seconds: Math.round(ingestMs) / 1_000,
      requestsPerSec: ratePerSecond(load.requests, ingestMs),
      latencyMs: summarize(load.latencies),
      ...(spec.mode === 'open'
        ? { flowLatencyMs: summarize(load.flowLatencies), flowsNotStarted: load.flowsNotStarted }
        : {}),
    },
    endToEnd: {
      seconds: Math.round(measured.endToEndMs) / 1_000,
      notificationsPerSec: ratePerSecond(measured.sent, measured.endToEndMs),
      ...(measured.warmUp ? { drainWarmUp: measured.warmUp } : {}),
      drainAfterIngestMs: Math.round(spans.lastSent - spans.lastAccepted),
      acceptedToSentMs: acceptedToSent,
    },
    stages,
    stageRates: stageRates(notifications, spans),
    // A drain's window holds its sends after the warm-up, and the CPU they took.
    cpu: { ...cpu, perNotificationMs: perNotification(cpu, measured.warmUp ? measured.sent : notifications) },
    memory,
    complete: settled.complete,
    completion: settled.reason,
    verification,
    ...(profiles ? { profiles } : {}),
  };
}

function perNotification(cpu: CpuUse, notifications: number): Record<string, number> {
  const per = (ms: number) => (notifications > 0 ? Math.round((ms / notifications) * 1_000) / 1_000 : 0);
  const result: Record<string, number> = {};
  for (const [name, ms] of Object.entries(cpu.componentMs)) result[name] = per(ms);
  result['other work on the machine'] = per(cpu.otherMs);
  result['machine total'] = per(cpu.machineBusyMs);
  return result;
}

async function readSamples(db: pg.Pool, run: RunRows): Promise<SampleMessage[]> {
  const { rows } = await db.query<{ routing_key: string; content: Buffer; properties: Record<string, unknown> }>(
    `(SELECT routing_key, content, properties FROM ticketing.outbox
       WHERE id > $1::bigint AND routing_key = 'ticket.added_to_checkout' LIMIT 1)
     UNION ALL
     (SELECT routing_key, content, properties FROM ticketing.outbox
       WHERE id > $1::bigint AND routing_key = 'checkout.completed' LIMIT 1)`,
    [run.outboxAfterId],
  );
  return rows.map((row) => ({ routingKey: row.routing_key, content: row.content, properties: row.properties }));
}

/**
 * Months of past traffic in the system's database, then VACUUM (ANALYZE) as the services'
 * maintenance would have left it: the run then measures a deployment that carries a history, not
 * the first minute after a bulk load.
 */
async function loadHistory(system: System, rows: number, context: ScenarioContext): Promise<void> {
  const startedAt = Date.now();
  context.log(
    `  preloading a history: ${rows} notifications with attempts, published outbox rows, idempotency keys, carts with their lines and orders`,
  );
  // A client of its own: a chunk of the load or the VACUUM takes longer than the checks pool allows.
  const client = new pg.Client({ connectionString: system.databaseUrl, query_timeout: 1_800_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await preloadHistory(client, historySize(rows));
    await client.query(HISTORY_VACUUM);
  } finally {
    await client.end().catch(() => undefined);
  }
  context.log(`  history loaded and vacuumed in ${Math.round((Date.now() - startedAt) / 1_000)} s`);
}
