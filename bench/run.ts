/**
 * End-to-end benchmark of the pipeline against this machine's own limits. See bench/README.md.
 *   npm run bench -- --count 20000 --concurrency 64 --latency 0,100 --prefetch 50
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDatabase, dropDatabase } from '../test-support/system/index.js';
import { type RabbitCluster, startRabbitCluster } from '../test-support/system/rabbitmq-cluster.js';
import { measurePostgres, measureRabbitMq, type SampleMessage } from './lib/baseline.js';
import { buildIfNeeded, sourceVersion } from './lib/build.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './lib/cli.js';
import { ADMIN_DATABASE_URL, AMQP_URL, cleanupOnAbort, newRunId, runAllCleanups } from './lib/infrastructure.js';
import { describeMachine } from './lib/machine.js';
import {
  type Baseline,
  CLUSTER_NOTE,
  checkTargets,
  HANDLER_POOL,
  type RunResult,
  renderMarkdown,
  vsBaseline,
} from './lib/report.js';
import { runScenario, type ScenarioSpec } from './lib/scenario.js';

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * --cluster: the handler's drain on the machine's single broker, then on the run's cluster with 1,
 * 2, 3... handler processes, same count, latency and prefetch: what replication costs, and what
 * more handlers do on these cores.
 */
function clusterScenarios(options: BenchOptions): ScenarioSpec[] {
  return options.drain.flatMap((latency) => {
    const drain = {
      mode: 'drain' as const,
      providerLatencyMs: latency,
      prefetch: options.prefetch,
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

function scenarios(options: BenchOptions): ScenarioSpec[] {
  if (options.cluster) return clusterScenarios(options);
  const { prefetch, profile, concurrency } = options;
  const specs: ScenarioSpec[] = options.latencies.map((latency) => ({
    name: `closed-${latency}ms`,
    mode: 'closed',
    providerLatencyMs: latency,
    prefetch,
    profile,
    notifications: options.count,
    concurrency,
    maxSeconds: options.maxSeconds,
  }));
  for (const rate of options.rates) {
    specs.push({
      name: `open-${rate}cps-${options.rateLatencyMs}ms`,
      mode: 'open',
      providerLatencyMs: options.rateLatencyMs,
      prefetch,
      profile,
      checkoutsPerSecond: rate,
      seconds: options.rateSeconds,
    });
  }
  const drain = (name: string, latency: number, drainPrefetch: number): ScenarioSpec => ({
    name,
    mode: 'drain',
    providerLatencyMs: latency,
    prefetch: drainPrefetch,
    profile,
    notifications: options.sweepCount,
    concurrency,
    maxSeconds: options.sweepSeconds,
  });
  for (const latency of options.drain) specs.push(drain(`drain-${latency}ms-prefetch-${prefetch}`, latency, prefetch));
  // The same drain through SendGrid: one request per email, where Mailjet carries up to 50 a call.
  for (const latency of options.sendgrid) {
    const spec = drain(`drain-${latency}ms-prefetch-${prefetch}-sendgrid`, latency, prefetch);
    specs.push({ ...spec, providers: 'sendgrid' });
  }
  for (const sweepPrefetch of options.sweep) {
    specs.push(
      drain(`sweep-${options.sweepLatencyMs}ms-prefetch-${sweepPrefetch}`, options.sweepLatencyMs, sweepPrefetch),
    );
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

async function measureBaseline(runId: string, samples: SampleMessage[], options: BenchOptions): Promise<Baseline> {
  const baseline: Baseline = { postgres: [] };
  if (options.baselineCount === 0) return baseline;
  if (samples.length === 0) return { ...baseline, error: 'no sample message (no scenario published one)' };
  const name = `bench_${runId}_base`;
  const url = await createDatabase(ADMIN_DATABASE_URL, name);
  const drop = cleanupOnAbort(() => dropDatabase(ADMIN_DATABASE_URL, name));
  try {
    log(`baseline: RabbitMQ quorum queue, ${options.baselineCount} messages`);
    baseline.rabbitmq = await measureRabbitMq(`bench.${runId}.baseline`, samples, options.baselineCount, {
      prefetch: options.prefetch,
      confirmBatch: 200,
    });
    // The handler's pool, then the ticketing service's (the shared default of 10).
    for (const pool of [HANDLER_POOL, 10]) {
      const pairs = Math.min(options.baselineCount, 10_000);
      log(`baseline: PostgreSQL, ${pairs} insert-then-update pairs, pool ${pool}`);
      baseline.postgres.push(await measurePostgres(url, samples[0] as SampleMessage, pairs, pool));
    }
  } catch (error) {
    baseline.error = (error as Error).message;
  } finally {
    await drop();
  }
  return baseline;
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const opts = options;
  let specs: ScenarioSpec[];
  try {
    specs = scenarios(opts);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 64;
  }
  const runId = newRunId();
  const started = new Date();
  const deadline = started.getTime() + opts.timeoutSeconds * 1_000;
  const run: RunResult = {
    runId,
    startedAt: started.toISOString(),
    finishedAt: '',
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    source: sourceVersion(),
    machine: await describeMachine(AMQP_URL, ADMIN_DATABASE_URL),
    options: opts,
    baseline: { postgres: [] },
    scenarios: [],
    targets: [],
  };
  const abort = async (reason: string) => {
    log(`ABORT: ${reason}; stopping children, dropping databases`);
    run.aborted = reason;
    await runAllCleanups();
    await writeResults(run, opts, false).catch(() => undefined);
    process.exit(2);
  };
  const timer = setTimeout(() => void abort(`global timeout of ${opts.timeoutSeconds} s`), opts.timeoutSeconds * 1_000);
  timer.unref();
  process.once('SIGINT', () => void abort('SIGINT'));
  process.once('SIGTERM', () => void abort('SIGTERM'));

  log(`run ${runId}: ${run.machine.nproc} cores, ${run.machine.cpuModel}, load ${run.machine.loadAverageAtStart}`);
  await buildIfNeeded(log);
  const samples: SampleMessage[] = [];
  const cluster = opts.cluster ? await startBenchCluster(runId) : undefined;
  for (const [index, spec] of specs.entries()) {
    log(`scenario ${index + 1}/${specs.length}: ${spec.name}`);
    const result = await runScenario(spec, { deadline, outDir: opts.outDir, samples, log, cluster });
    run.scenarios.push(result);
    printScenario(result);
    if (index === 0 && opts.baselineCount > 0) run.baseline = await measureBaseline(runId, samples, opts);
  }
  run.finishedAt = new Date().toISOString();
  run.targets = checkTargets(run.scenarios);
  const files = await writeResults(run, opts, opts.writeLatest);
  console.log(`\n${renderMarkdown(run)}`);
  if (opts.cluster) log(CLUSTER_NOTE);
  log(`results: ${files.join(', ')}`);
  clearTimeout(timer);
  const lossFree = run.targets.at(-1)?.met !== false;
  return lossFree ? 0 : 1;
}

function printScenario(result: RunResult['scenarios'][number]): void {
  const e = result.endToEnd;
  log(
    `  REST ${result.ingest.requestsPerSec} req/s (p50 ${result.ingest.latencyMs.p50} ms, p99 ${result.ingest.latencyMs.p99} ms); ` +
      `end to end ${e.notificationsPerSec}/s; accepted → sent p50 ${e.acceptedToSentMs.p50} p95 ${e.acceptedToSentMs.p95} p99 ${e.acceptedToSentMs.p99} ms; ` +
      `stage rates ingest ${result.stageRates.ingestNotificationsPerSec}, relay ${result.stageRates.relayPerSec}, handler ${result.stageRates.handlerPerSec}/s; ` +
      `verification ${result.verification.ok ? 'ok' : result.verification.problems.join('; ')}`,
  );
}

/** A three-node cluster of the run's own (rabbitmq-cluster.ts), gone with the run even when it is cut short. */
async function startBenchCluster(runId: string): Promise<RabbitCluster> {
  log('starting a three-node RabbitMQ cluster of the run’s own');
  const cluster = await startRabbitCluster({ label: `bench-${runId}` });
  cleanupOnAbort(() => cluster.destroy());
  log(`  cluster up: ${cluster.nodes.map((node) => node.nodeName).join(', ')}`);
  return cluster;
}

async function writeResults(run: RunResult, options: BenchOptions, latest: boolean): Promise<string[]> {
  const runsDir = join(options.outDir, 'runs');
  await mkdir(runsDir, { recursive: true });
  const withFractions = {
    ...run,
    scenarios: run.scenarios.map((scenario) => ({ ...scenario, vsBaseline: vsBaseline(scenario, run.baseline) })),
  };
  const json = `${JSON.stringify(withFractions, null, 2)}\n`;
  const markdown = renderMarkdown(run);
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const files = [join(runsDir, `${stamp}.json`), join(runsDir, `${stamp}.md`)];
  await writeFile(files[0] as string, json);
  await writeFile(files[1] as string, markdown);
  if (latest) {
    // A cluster run is another question: it keeps its own latest file.
    const name = options.cluster ? 'cluster' : 'latest';
    files.push(join(options.outDir, `${name}.json`), join(options.outDir, `${name}.md`));
    await writeFile(join(options.outDir, `${name}.json`), json);
    await writeFile(join(options.outDir, `${name}.md`), markdown);
  }
  return files;
}

main().then(
  async (code) => {
    await runAllCleanups();
    process.exit(code);
  },
  async (error: unknown) => {
    console.error(error);
    await runAllCleanups();
    process.exit(1);
  },
);
