/**
 * End-to-end benchmark of the pipeline against this machine's own limits. See bench/README.md.
 *   npm run bench -- --count 20000 --concurrency 64 --latency 0,100 --prefetch 50
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDatabase, dropDatabase } from '@notify/test-support/system/index.js';
import { type RabbitCluster, startRabbitCluster } from '@notify/test-support/system/rabbitmq-cluster.js';
import { HANDLER_POOL, measurePostgres, measureRabbitMq, type SampleMessage } from './lib/baseline.js';
import { buildIfNeeded, sourceVersion } from './lib/build.js';
import { type BenchOptions, parseCommandLine, parseOptions, USAGE, UsageError } from './lib/cli.js';
import { handlerDefaultPrefetch } from './lib/handler-defaults.js';
import {
  ADMIN_DATABASE_URL,
  AMQP_URL,
  abortOnSignalsOrAfter,
  cleanupOnAbort,
  newRunId,
  runBenchMain,
} from './lib/infrastructure.js';
import { describeMachine } from './lib/machine.js';
import { effectivePrefetch, planScenarios } from './lib/plan.js';
import { type Baseline, CLUSTER_NOTE, checkTargets, type RunResult, renderMarkdown, vsBaseline } from './lib/report.js';
import { runScenario, type ScenarioSpec } from './lib/scenario.js';

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function measureBaseline(
  runId: string,
  samples: SampleMessage[],
  options: BenchOptions,
  prefetch: number,
): Promise<Baseline> {
  const baseline: Baseline = { postgres: [] };
  if (options.baselineCount === 0) return baseline;
  if (samples.length === 0) return { ...baseline, error: 'no sample message (no scenario published one)' };
  const name = `bench_${runId}_base`;
  const url = await createDatabase(ADMIN_DATABASE_URL, name);
  const drop = cleanupOnAbort(() => dropDatabase(ADMIN_DATABASE_URL, name));
  try {
    log(`baseline: RabbitMQ quorum queue, ${options.baselineCount} messages`);
    baseline.rabbitmq = await measureRabbitMq(`bench.${runId}.baseline`, samples, options.baselineCount, {
      prefetch,
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
  const opts = parseCommandLine(parseOptions, USAGE);
  if (typeof opts === 'number') return opts;
  const handlerDefaults = { prefetch: handlerDefaultPrefetch() };
  let specs: ScenarioSpec[];
  try {
    specs = planScenarios(opts, handlerDefaults.prefetch);
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
    handlerDefaults,
    baseline: { postgres: [] },
    scenarios: [],
    targets: [],
  };
  const stopClock = abortOnSignalsOrAfter(
    opts.timeoutSeconds * 1_000,
    (reason) => {
      log(`ABORT: ${reason}; stopping children, dropping databases`);
      run.aborted = reason;
    },
    () => writeResults(run, opts, false),
  );

  log(`run ${runId}: ${run.machine.nproc} cores, ${run.machine.cpuModel}, load ${run.machine.loadAverageAtStart}`);
  await buildIfNeeded(log);
  const samples: SampleMessage[] = [];
  const cluster = opts.cluster ? await startBenchCluster(runId) : undefined;
  for (const [index, spec] of specs.entries()) {
    log(`scenario ${index + 1}/${specs.length}: ${spec.name}`);
    const result = await runScenario(spec, { deadline, outDir: opts.outDir, samples, log, cluster });
    run.scenarios.push(result);
    printScenario(result);
    if (index === 0 && opts.baselineCount > 0)
      run.baseline = await measureBaseline(runId, samples, opts, effectivePrefetch(opts, handlerDefaults.prefetch));
  }
  run.finishedAt = new Date().toISOString();
  run.targets = checkTargets(run.scenarios, handlerDefaults);
  const files = await writeResults(run, opts, opts.writeLatest);
  console.log(`\n${renderMarkdown(run)}`);
  if (opts.cluster) log(CLUSTER_NOTE);
  log(`results: ${files.join(', ')}`);
  stopClock();
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

runBenchMain(main);
