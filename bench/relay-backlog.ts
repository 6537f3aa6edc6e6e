/**
 * The outbox relay alone, draining a backlog: what a broker outage of minutes leaves behind. For
 * each OUTBOX_BATCHES_IN_FLIGHT value, a database of its own is loaded with N pending outbox rows
 * of a real message's size, the ticketing service starts in this process (no requests: only its
 * relay works), and the time from the first claim to the last row published gives rows/s. The
 * rows go to a quorum queue of the run's own, as the handler's queue is. Not part of `npm test`.
 *   npm run bench:relay -- --rows 20000 --in-flight 1,2,4 --rounds 2
 */
import { parseArgs } from 'node:util';
import { topologyNames } from '@notify/shared';
import { createLogger } from '@notify/shared/platform';
import { createDatabase, dropDatabase } from '@notify/test-support/system/database.js';
import amqp from 'amqplib';
import pg from 'pg';
import { loadConfig } from '../ticketing-service/src/config.js';
import { migrateTicketingDatabase, startTicketingService } from '../ticketing-service/src/service.js';
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
import { backlogDeliveryProblem } from './lib/verify.js';

const USAGE = `npm run bench:relay -- [options]
  --rows N          pending outbox rows per drain (default 20000)
  --in-flight L     OUTBOX_BATCHES_IN_FLIGHT values, one drain each (default 1,2,4)
  --rounds R        repeat the whole list, interleaved, to see the drift (default 2)
  --timeout S       bound on each drain (default 120)`;

/** About the size of a real outbox message (the bench's baselines measured 490 B). */
const CONTENT_BYTES = 490;
const log = (line: string) => console.log(`[relay ${new Date().toISOString().slice(11, 19)}] ${line}`);

type Options = { rows: number; inFlight: number[]; rounds: number; timeoutS: number };

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string' },
      'in-flight': { type: 'string' },
      rounds: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  return {
    rows: wholeNumber('rows', values.rows ?? '20000', 1, 1_000_000),
    inFlight: list('in-flight', values['in-flight'] ?? '1,2,4', 1, 16),
    rounds: wholeNumber('rounds', values.rounds ?? '2', 1, 10),
    timeoutS: wholeNumber('timeout', values.timeout ?? '120', 1, 3_600),
  };
}

type Drain = { inFlight: number; rows: number; seconds: number; rowsPerSecond: number };

async function drainOnce(runId: string, label: string, inFlight: number, options: Options): Promise<Drain> {
  const databaseName = `bench_relay_${runId}_${label}`;
  const databaseUrl = await createDatabase(ADMIN_DATABASE_URL, databaseName);
  const prefix = `bench.relay.${runId}.${label}.`;
  const { exchange } = topologyNames(prefix);
  const queue = `${prefix}backlog`;
  const broker = await amqp.connect(AMQP_URL, { timeout: 5_000 });
  broker.on('error', (err) => log(`broker connection: ${String(err)}`));
  const channel = await broker.createChannel();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1, statement_timeout: 60_000 });
  db.on('error', (err) => log(`database: ${String(err)}`));
  const release = cleanupOnAbort(async () => {
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.deleteExchange(exchange).catch(() => undefined);
    await broker.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    await dropDatabase(ADMIN_DATABASE_URL, databaseName);
  });
  try {
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(queue, exchange, '#');
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      AMQP_URL,
      PORT: '0',
      TOPOLOGY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      OUTBOX_BATCHES_IN_FLIGHT: String(inFlight),
    });
    const serviceLog = createLogger({ name: 'ticketing-service', level: 'error', format: 'json' });
    await migrateTicketingDatabase(databaseUrl, serviceLog);
    await db.query(
      `INSERT INTO ticketing.outbox (tracking_id, exchange, routing_key, content, properties)
       SELECT gen_random_uuid(), $1, 'ticket.added_to_checkout', convert_to(repeat('x', $3), 'UTF8'),
              jsonb_build_object('messageId', gen_random_uuid()::text, 'persistent', true, 'contentType', 'application/json')
         FROM generate_series(1, $2)`,
      [exchange, options.rows, CONTENT_BYTES],
    );
    await db.query('VACUUM ANALYZE ticketing.outbox');

    const service = await startTicketingService(config, serviceLog);
    try {
      const deadline = Date.now() + options.timeoutS * 1_000;
      for (;;) {
        const { rows } = await db.query<{ pending: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM ticketing.outbox WHERE published_at IS NULL AND exchange = $1) AS pending',
          [exchange],
        );
        if (!rows[0]?.pending) break;
        if (Date.now() > deadline) throw new Error(`backlog not drained within ${options.timeoutS} s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // From the first claim to this poll: the service's start-up is not counted.
      const { rows } = await db.query<{ seconds: number }>(
        `SELECT extract(epoch FROM clock_timestamp() - min(published_at))::float8 AS seconds
           FROM ticketing.outbox WHERE exchange = $1`,
        [exchange],
      );
      const seconds = rows[0]?.seconds ?? Number.NaN;
      const delivered = (await channel.checkQueue(queue)).messageCount;
      const problem = backlogDeliveryProblem(delivered, options.rows);
      if (problem) throw new Error(problem);
      return { inFlight, rows: options.rows, seconds, rowsPerSecond: options.rows / seconds };
    } finally {
      await service.stop();
    }
  } finally {
    await release();
  }
}

async function main(): Promise<number> {
  const options = parseCommandLine(parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const bound = (options.timeoutS + 60) * options.inFlight.length * options.rounds;
  abortOnSignalsOrAfter(bound * 1_000, (reason) => log(`stopping: ${reason}`));

  const machine = await describeMachine(AMQP_URL, ADMIN_DATABASE_URL);
  log(
    `${machine.nproc} cores, ${machine.cpuModel}, load ${machine.loadAverageAtStart} at the start; ${options.rows} rows per drain`,
  );
  const runId = newRunId();
  const drains: Drain[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const inFlight of options.inFlight) {
      const drain = await drainOnce(runId, `r${round}_f${inFlight}`, inFlight, options);
      log(`round ${round}, ${inFlight} in flight: ${drain.rows} rows in ${drain.seconds.toFixed(2)} s`);
      drains.push(drain);
    }
  }
  console.log('\n| batches in flight | rows | rows/s, each round |');
  console.log('| ---: | ---: | --- |');
  for (const inFlight of options.inFlight) {
    const rates = drains.filter((drain) => drain.inFlight === inFlight).map((drain) => Math.round(drain.rowsPerSecond));
    console.log(
      `| ${inFlight} | ${options.rows.toLocaleString('en')} | ${rates.map((rate) => rate.toLocaleString('en')).join(', ')} |`,
    );
  }
  return 0;
}

runBenchMain(main);
