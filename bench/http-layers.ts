/**
 * What each layer of the ticketing API's HTTP stack costs per request, without the database: the
 * stack is built up one layer at a time (lib/http-layers-app.ts), each in a server process of its
 * own, driven with the checkout flow's three requests over keep-alive connections; the server's
 * CPU time per request comes from /proc. Rounds are interleaved to show the drift. Loopback only,
 * bounded, not part of `npm test`.
 *   npm run bench:http -- --requests 30000 --rounds 3
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonClient } from '@notify/test-support/system/json-client.js';
import { parseCommandLine, wholeNumber } from './lib/cli.js';
import { processCpu } from './lib/cpu-accounting.js';
import { LAYERS, layeredServer } from './lib/http-layers-app.js';
import { ADMIN_DATABASE_URL, AMQP_URL, runBenchMain } from './lib/infrastructure.js';
import { describeMachine } from './lib/machine.js';

const USAGE = `npm run bench:http -- [options]
  --requests N      measured requests per layer and round (default 30000)
  --warm-up N       requests before each measurement, not counted (default 5000)
  --concurrency N   requests in flight (default 64)
  --rounds R        repeat the whole stack, interleaved (default 3)`;

type Options = { requests: number; warmUp: number; concurrency: number; rounds: number };

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      requests: { type: 'string' },
      'warm-up': { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  return {
    requests: wholeNumber('requests', values.requests ?? '30000', 100, 1_000_000),
    warmUp: wholeNumber('warm-up', values['warm-up'] ?? '5000', 0, 1_000_000),
    concurrency: wholeNumber('concurrency', values.concurrency ?? '64', 1, 1_000),
    rounds: wholeNumber('rounds', values.rounds ?? '3', 1, 10),
  };
}

const CART_ID = '01a23249-5c51-716f-9a6a-e63a43d1e516';
const TICKET_TYPE_ID = '01a23249-5c51-716f-9a6a-e63a43d1e518';
/** Per server and round: a server that stops answering must not hold the run. */
const MEASUREMENT_TIMEOUT_MS = 120_000;
const log = (line: string) => console.log(`[http ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The checkout flow's requests in turn, `count` of them, `concurrency` at a time; throws on any answer but 201. */
async function drive(client: JsonClient, count: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const step = next % 3;
      next += 1;
      const answer =
        step === 0
          ? await client.post('/carts', { customer: { email: `bench-${next}@example.com`, name: 'Bench Customer' } })
          : step === 1
            ? await client.post(`/carts/${CART_ID}/tickets`, { ticketTypeId: TICKET_TYPE_ID, quantity: 1 })
            : await client.post(`/carts/${CART_ID}/checkout`, undefined);
      if (answer.status !== 201) throw new Error(`answer ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

type Measurement = { layer: number; cpuMicrosPerRequest: number; requestsPerSecond: number };

async function measure(layer: number, options: Options): Promise<Measurement> {
  // The same file, serving: tsx's loader comes along in execArgv.
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--serve', String(layer)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), MEASUREMENT_TIMEOUT_MS);
  try {
    const exited = once(child, 'exit').then(([code, signal]) => {
      throw new Error(`layer ${layer}: the server exited (${code ?? signal}) before it listened`);
    });
    // Handled here too: once the server listens, its exit at the end is expected.
    exited.catch(() => undefined);
    const [firstLine] = (await Promise.race([once(child.stdout, 'data'), exited])) as [Buffer];
    const port = Number(firstLine.toString().trim());
    if (!child.pid || !Number.isInteger(port)) throw new Error(`layer ${layer}: no port from the server`);
    // Request lines follow (the last layer logs at info): read and dropped, so that the pipe never
    // fills and stalls the server, as a deployment's log collector would read them.
    child.stdout.resume();
    const client = new JsonClient(`http://127.0.0.1:${port}`, { sockets: options.concurrency });
    try {
      await drive(client, options.warmUp, options.concurrency);
      const before = await processCpu(child.pid);
      const startedAt = performance.now();
      await drive(client, options.requests, options.concurrency);
      const seconds = (performance.now() - startedAt) / 1_000;
      const cpuMs = (await processCpu(child.pid)).ms - before.ms;
      return {
        layer,
        cpuMicrosPerRequest: (cpuMs * 1_000) / options.requests,
        requestsPerSecond: options.requests / seconds,
      };
    } finally {
      await client.close();
    }
  } finally {
    clearTimeout(killer);
    child.stdin.end();
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

/** Child mode: listen on a free loopback port, print it, stop when the parent closes stdin (or dies). */
async function serve(layer: number): Promise<void> {
  const server = layeredServer(layer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  server.closeAllConnections();
  server.close();
}

async function main(): Promise<number> {
  const serving = process.argv.indexOf('--serve');
  if (serving > 0) {
    await serve(Number(process.argv[serving + 1]));
    return 0;
  }
  const options = parseCommandLine(parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const machine = await describeMachine(AMQP_URL, ADMIN_DATABASE_URL);
  log(`${machine.nproc} cores, ${machine.cpuModel}, load ${machine.loadAverageAtStart} at the start`);
  const results: Measurement[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (let layer = 1; layer <= LAYERS.length; layer++) {
      const result = await measure(layer, options);
      log(
        `round ${round}, ${LAYERS[layer - 1]?.name}: ${result.cpuMicrosPerRequest.toFixed(0)} µs CPU per request, ${Math.round(result.requestsPerSecond)} requests/s`,
      );
      results.push(result);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  console.log(
    `\nServer CPU per request (µs), ${options.requests.toLocaleString('en')} requests per layer and round after ${options.warmUp.toLocaleString('en')} not counted, ${options.concurrency} in flight:\n`,
  );
  console.log('| layer | adds | µs each round | median | vs the layer before |');
  console.log('| --- | --- | --- | ---: | ---: |');
  let previous: number | undefined;
  LAYERS.forEach(({ name, adds }, index) => {
    const each = results.filter((result) => result.layer === index + 1).map((result) => result.cpuMicrosPerRequest);
    const middle = median(each);
    const delta = previous === undefined ? '' : `${middle >= previous ? '+' : ''}${(middle - previous).toFixed(0)}`;
    console.log(
      `| ${name} | ${adds} | ${each.map((value) => value.toFixed(0)).join(', ')} | ${middle.toFixed(0)} | ${delta} |`,
    );
    previous = middle;
  });
  return 0;
}

runBenchMain(main);
