/**
 * What each of the ticketing API's statements costs PostgreSQL, without the API: the checkout
 * flow's statements one kind at a time (lib/statement-costs.ts), on one connection and on several,
 * the backends' CPU from /proc. Each run has a database of its own, dropped at the end. Rounds
 * are interleaved to show the drift. Not part of `npm test`.
 *   npm run bench:statements -- --carts 4000 --connections 1,8 --rounds 2
 */
import { parseArgs } from 'node:util';
import { silentLogger } from '@notify/test-support/logger.js';
import { createDatabase, dropDatabase } from '@notify/test-support/system/database.js';
import { migrateTicketingDatabase } from '../ticketing-service/src/service.js';
import { list, parseCommandLine, wholeNumber } from './lib/cli.js';
import {
  ADMIN_DATABASE_URL,
  AMQP_URL,
  abortOnSignalsOrAfter,
  cleanupOnAbort,
  newRunId,
  runBenchMain,
} from './lib/infrastructure.js';
import { describeMachine } from './lib/machine.js';
import {
  backendMicrosPerFlow,
  type FlowWrite,
  measureStatementCosts,
  type StatementCost,
  writeMicrosPerFlow,
} from './lib/statement-costs.js';

const USAGE = `npm run bench:statements -- [options]
  --carts N         checkout flows' worth of each statement per run (default 4000)
  --connections L   connections sharing the work, one run each (default 1,8)
  --rounds R        repeat the whole list, interleaved (default 2)`;

/** Per run: a database that stops answering must not hold the run. */
const RUN_TIMEOUT_MS = 300_000;
const log = (line: string) => console.log(`[statements ${new Date().toISOString().slice(11, 19)}] ${line}`);

type Options = { carts: number; connections: number[]; rounds: number };

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      carts: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  return {
    carts: wholeNumber('carts', values.carts ?? '4000', 10, 200_000),
    connections: list('connections', values.connections ?? '1,8', 1, 64),
    rounds: wholeNumber('rounds', values.rounds ?? '2', 1, 10),
  };
}

type Run = { connections: number; costs: StatementCost[] };

async function runOnce(runId: string, label: string, connections: number, carts: number): Promise<Run> {
  const databaseName = `bench_statements_${runId}_${label}`;
  const databaseUrl = await createDatabase(ADMIN_DATABASE_URL, databaseName);
  const release = cleanupOnAbort(() => dropDatabase(ADMIN_DATABASE_URL, databaseName));
  try {
    await migrateTicketingDatabase(databaseUrl, silentLogger);
    return { connections, costs: await measureStatementCosts(databaseUrl, { carts, connections }) };
  } finally {
    await release();
  }
}

async function main(): Promise<number> {
  const options = parseCommandLine(parseOptions, USAGE);
  if (typeof options === 'number') return options;
  abortOnSignalsOrAfter(RUN_TIMEOUT_MS * options.connections.length * options.rounds, (reason) =>
    log(`stopping: ${reason}`),
  );

  const machine = await describeMachine(AMQP_URL, ADMIN_DATABASE_URL);
  log(
    `${machine.nproc} cores, ${machine.cpuModel}, load ${machine.loadAverageAtStart} at the start; ${machine.postgresql}`,
  );
  const runId = newRunId();
  const runs: Run[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const connections of options.connections) {
      const run = await runOnce(runId, `r${round}_c${connections}`, connections, options.carts);
      const perFlow = backendMicrosPerFlow(run.costs, options.carts);
      log(`round ${round}, ${connections} connection(s): ${perFlow.toFixed(0)} µs of backend CPU per checkout flow`);
      runs.push(run);
    }
  }
  printTable(runs, options);
  return 0;
}

function printTable(runs: Run[], options: Options): void {
  console.log(
    `\nPostgreSQL backend CPU per statement (µs, in brackets the kernel's part), ${options.carts.toLocaleString('en')} of each per run, each round in turn:\n`,
  );
  const columns = options.connections.map((connections) => `${connections} connection${connections === 1 ? '' : 's'}`);
  console.log(`| statement | ${columns.join(' | ')} |`);
  console.log(`| --- |${columns.map(() => ' --- |').join('')}`);
  const statements = runs[0]?.costs.map((cost) => cost.statement) ?? [];
  const cell = (connections: number, statement: string) =>
    runs
      .filter((run) => run.connections === connections)
      .map((run) => run.costs.find((cost) => cost.statement === statement))
      .map((cost) => (cost ? `${cost.backendMicros.toFixed(0)} (${cost.kernelMicros.toFixed(0)})` : '?'))
      .join(', ');
  for (const statement of statements) {
    console.log(
      `| ${statement} | ${options.connections.map((connections) => cell(connections, statement)).join(' | ')} |`,
    );
  }
  const perFlow = (connections: number) =>
    runs
      .filter((run) => run.connections === connections)
      .map((run) => backendMicrosPerFlow(run.costs, options.carts).toFixed(0))
      .join(', ');
  console.log(`| **a checkout flow** (2 notifications) | ${options.connections.map(perFlow).join(' | ')} |`);
  const writes = (write: FlowWrite) => (connections: number) =>
    runs
      .filter((run) => run.connections === connections)
      .map((run) => writeMicrosPerFlow(run.costs, write).toFixed(0))
      .join(', ');
  console.log(`| its three writes, one statement each | ${options.connections.map(writes('alone')).join(' | ')} |`);
  console.log(
    `| the same writes, gathered (sum of the three "to a statement" rows) | ${options.connections.map(writes('gathered')).join(' | ')} |`,
  );
}

runBenchMain(main);
