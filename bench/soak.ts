/**
 * The soak: a steady open-loop load for a long while, from empty tables, watching whether latency,
 * memory, CPU per notification and dead rows stay flat. Not part of `npm test` or CI. See bench/README.md.
 *   npm run soak -- --minutes 20 --rate 200
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProblems, type System, startLoad, startSystem, verifySystem } from '@notify/test-support/system/index.js';
import { buildIfNeeded, sourceVersion } from './lib/build.js';
import { parseCommandLine } from './lib/cli.js';
import { type Components, cpuBetween, snapshotCpu } from './lib/cpu-accounting.js';
import { handlerDefaultPrefetch } from './lib/handler-defaults.js';
import {
  ADMIN_DATABASE_URL,
  AMQP_URL,
  abortOnSignalsOrAfter,
  cleanupOnAbort,
  runBenchMain,
} from './lib/infrastructure.js';
import { describeMachine } from './lib/machine.js';
import { renderMinuteTable, renderSoak, type SoakResult } from './lib/soak-report.js';
import { acceptedInMinute, acceptedToSent, type MinuteSample, trackPeakResidentSetSizes } from './lib/soak-samples.js';
import { judgeSoak, WINDOW_MINUTES } from './lib/soak-verdict.js';
import { readTableRows } from './lib/table-rows.js';

const USAGE = `npm run soak -- [options]
  --minutes N   how long the load runs (default 20)
  --rate R      checkout flows started per second, 2 notifications each (default 200)
  --out DIR     results folder (default bench/results): soak-latest.md, and runs/soak-<time>.md|json`;

const MAINTENANCE_INTERVAL_MS = 60_000;
const log = (line: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help' as const;
  const whole = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max)
      throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  return {
    minutes: whole('minutes', values.minutes ?? '20', 1, 24 * 60),
    rate: whole('rate', values.rate ?? '200', 1, 10_000),
    outDir: values.out ?? 'bench/results',
  };
}

async function main(): Promise<number> {
  const options = parseCommandLine(parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const startedAt = new Date();
  // Bounded: the load, the settling that follows, and the start and stop of the system.
  const stopClock = abortOnSignalsOrAfter((options.minutes * 60 + 900) * 1_000, (reason) =>
    log(`ABORT: ${reason}; stopping the services, dropping the database`),
  );

  const machine = await describeMachine(AMQP_URL, ADMIN_DATABASE_URL);
  await buildIfNeeded(log);
  const system = await startSystem({
    label: 'soak',
    amqpUrl: AMQP_URL,
    adminDatabaseUrl: ADMIN_DATABASE_URL,
    handlerEnv: {
      LOG_LEVEL: 'warn',
      PREFETCH: String(handlerDefaultPrefetch()),
      MAINTENANCE_INTERVAL_MS: String(MAINTENANCE_INTERVAL_MS),
    },
    ticketingEnv: { LOG_LEVEL: 'warn', MAINTENANCE_INTERVAL_MS: String(MAINTENANCE_INTERVAL_MS) },
    // The store keeps the newest emails whole; the tally counts every one by its tracking id, for
    // the check for missing and repeated ones, with room for twice the run's notifications.
    sandboxEnv: {
      SANDBOX_MAX_STORED: '20000',
      SANDBOX_MAX_STORED_BYTES: String(64 * 1024 ** 2),
      SANDBOX_MAX_TALLIED: String(2 * 2 * options.rate * 60 * options.minutes),
    },
  });
  const release = cleanupOnAbort(() => system.stop());
  try {
    const { rows } = await system.db.query<{ autovacuum: string }>('SHOW autovacuum');
    const autovacuum = rows[0]?.autovacuum ?? 'unknown';
    log(`system ${system.id} up (database ${system.databaseName}); PostgreSQL autovacuum = ${autovacuum}`);
    log(`load: ${options.rate} checkouts/s (${options.rate * 2} notifications/s) for ${options.minutes} min`);

    const load = startLoad({
      baseUrl: system.ticketingUrl,
      ratePerSecond: options.rate,
      durationMs: options.minutes * 60_000,
      maxConcurrent: 512,
      emailPrefix: `soak-${system.id}`,
    });
    const samples = await sampleEachMinute(system, load, options.minutes);
    await load.done;
    log(`load done: ${load.accepted.size} accepted; waiting until every one is final`);
    const report = await verifySystem(system, {
      accepted: load.accepted,
      faultEndedAt: Date.now(),
      deadlineMs: 600_000,
    });
    report.problems.push(...loadProblems(load.stats));
    // Final figures: every notification has had the time to be sent by now.
    for (const sample of samples) {
      Object.assign(
        sample,
        await acceptedToSent(system.db, acceptedInMinute(load.accepted, load.startedAt, sample.minute)),
      );
    }
    const window = async (firstMinute: number) => {
      const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => firstMinute + i);
      const accepted = minutes.flatMap((minute) => acceptedInMinute(load.accepted, load.startedAt, minute));
      return (await acceptedToSent(system.db, accepted)).latencyMs;
    };
    const verdict =
      samples.length >= 2 * WINDOW_MINUTES
        ? judgeSoak(samples, { first: await window(1), last: await window(samples.length - WINDOW_MINUTES + 1) })
        : undefined;
    const result: SoakResult = {
      command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      source: sourceVersion(),
      machine,
      options: { minutes: options.minutes, checkoutsPerSecond: options.rate },
      autovacuum,
      maintenanceIntervalMs: MAINTENANCE_INTERVAL_MS,
      minutes: samples,
      verdict,
      verification: {
        accepted: report.accepted,
        sent: report.sent,
        failed: report.failed,
        lost: report.lost,
        notFinal: report.notFinal,
        unconfirmedRows: report.unconfirmedRows,
        problems: report.problems,
        mainQueue: report.mainQueue.messages,
        deadLetterQueue: report.deadLetterQueue.messages,
        duplicates: report.duplicates,
      },
      maintenanceLines: maintenanceLines(system),
    };
    const markdown = renderSoak(result);
    const files = await writeResults(result, markdown, options.outDir);
    console.log(`\n${markdown}`);
    log(`results: ${files.join(', ')}`);
    const flat = !verdict || (verdict.p99Flat && verdict.memoryFlat !== false && verdict.cpu?.flat !== false);
    return report.problems.length === 0 && flat ? 0 : 1;
  } finally {
    stopClock();
    await release();
  }
}

/** At each minute of the load: memory, CPU, dead rows, flows; the previous minute's latency so far. */
async function sampleEachMinute(system: System, load: ReturnType<typeof startLoad>, minutes: number) {
  const samples: MinuteSample[] = [];
  let previous = { started: 0, skipped: 0, failed: 0 };
  const memory = trackPeakResidentSetSizes(system, 1_000);
  const components: Components = {
    processes: system.processes.map(({ name, pid }) => ({ name, pid })),
    db: system.db,
    databaseName: system.databaseName,
    brokerPorts: [Number(new URL(AMQP_URL).port || 5672)],
  };
  let cpuBefore = await snapshotCpu(components);
  try {
    for (let minute = 1; minute <= minutes; minute++) {
      const due = load.startedAt + minute * 60_000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      const cpuAfter = await snapshotCpu(components);
      const cpu = cpuBetween(cpuBefore, cpuAfter);
      cpuBefore = cpuAfter;
      const inMinute = acceptedInMinute(load.accepted, load.startedAt, minute);
      const { started, skipped, failed } = load.stats;
      samples.push({
        minute,
        accepted: inMinute.length,
        ...(await acceptedToSent(system.db, inMinute)),
        rssPeakMiB: await memory.takePeaks(),
        tables: await readTableRows(system.db),
        flowsStarted: started - previous.started,
        flowsSkipped: skipped - previous.skipped,
        flowErrors: failed - previous.failed,
        cpuMs: cpu.componentMs,
        otherCpuMs: cpu.otherMs,
      });
      previous = { started, skipped, failed };
      const table = renderMinuteTable(samples).split('\n');
      if (minute === 1) console.log(`${table[0]}\n${table[1]}`);
      console.log(table.at(-1));
    }
  } finally {
    memory.stop();
  }
  return samples;
}

/** What the services said about their tables at warn level or above (the soak runs them at warn). */
function maintenanceLines(system: System): string[] {
  return system.processes.flatMap((service) =>
    service.lines
      .filter((line) => /autovacuum|maintenance|tables maintained/i.test(String(line.msg)))
      .map((line) => `${service.name}: ${line.msg}`),
  );
}

async function writeResults(result: SoakResult, markdown: string, outDir: string): Promise<string[]> {
  const runsDir = join(outDir, 'runs');
  await mkdir(runsDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const files = [
    join(runsDir, `soak-${stamp}.json`),
    join(runsDir, `soak-${stamp}.md`),
    join(outDir, 'soak-latest.md'),
  ];
  await writeFile(files[0] as string, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(files[1] as string, markdown);
  await writeFile(files[2] as string, markdown);
  return files;
}

runBenchMain(main);
