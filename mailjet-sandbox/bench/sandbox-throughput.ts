/**
 * Single-message sends against an in-process sandbox over keep-alive loopback connections.
 * The load generator runs on a worker thread (BENCH_CLIENT=worker, the default) or on the
 * sandbox's own event loop (BENCH_CLIENT=inline, a floor: client and server then share a core).
 *   npm run bench:sandbox                 (50,000 sends after 2,000 warm-up, 64 in flight, 60 s cap)
 *   BENCH_SENDS=20000 BENCH_CONCURRENCY=32 BENCH_MAX_SECONDS=30 BENCH_CLIENT=inline npm run bench:sandbox
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { startSandbox } from '../src/index.js';
import { type LoadRun, type LoadSettings, runLoad } from './load-generator.js';
import { threadCpuMs } from './thread-cpu.js';

/** The measured run, and the CPU the sandbox's thread used meanwhile (ms; undefined off Linux). */
type Measured = { run: LoadRun; serverCpuMs: number | undefined };

function wholeFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return Number(raw);
}

function clientFromEnv(): 'worker' | 'inline' {
  const raw = process.env.BENCH_CLIENT ?? 'worker';
  if (raw !== 'worker' && raw !== 'inline') throw new Error(`BENCH_CLIENT must be worker or inline, got "${raw}"`);
  return raw;
}

async function main(): Promise<void> {
  const client = clientFromEnv();
  const sandbox = await startSandbox({ port: 0 });
  const settings: LoadSettings = {
    port: sandbox.port,
    authorization: `Basic ${Buffer.from(`${sandbox.apiKey}:${sandbox.apiSecret}`).toString('base64')}`,
    sends: wholeFromEnv('BENCH_SENDS', 50_000),
    concurrency: wholeFromEnv('BENCH_CONCURRENCY', 64),
    maxSeconds: wholeFromEnv('BENCH_MAX_SECONDS', 60),
    warmup: wholeFromEnv('BENCH_WARMUP', 2_000),
  };
  try {
    const measured = client === 'inline' ? await runInline(settings) : await runInWorker(settings);
    report(settings, client, measured, sandbox.store.size);
  } finally {
    await sandbox.stop();
  }
}

async function runInline(settings: LoadSettings): Promise<Measured> {
  let startCpu: number | undefined;
  const run = await runLoad(settings, () => {
    startCpu = threadCpuMs();
  });
  return { run, serverCpuMs: cpuSince(startCpu) };
}

async function runInWorker(settings: LoadSettings): Promise<Measured> {
  // On Node 20 a worker does not inherit tsx's module hooks: it loads its TypeScript through tsx's API.
  const entry = JSON.stringify(new URL('./load-worker.ts', import.meta.url).href);
  const code = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${entry}, ${JSON.stringify(import.meta.url)}))`;
  const worker = new Worker(code, { eval: true, workerData: settings });
  const failed = Promise.race([
    once(worker, 'error').then(([error]) => Promise.reject(error)),
    once(worker, 'exit').then(([code]) => Promise.reject(new Error(`load worker exited early (code ${code})`))),
  ]);
  await Promise.race([once(worker, 'message'), failed]); // the warm-up is over
  const startCpu = threadCpuMs();
  const [{ run }] = (await Promise.race([once(worker, 'message'), failed])) as [{ run: LoadRun }];
  const serverCpuMs = cpuSince(startCpu);
  await worker.terminate();
  return { run, serverCpuMs };
}

function cpuSince(startCpu: number | undefined): number | undefined {
  const now = threadCpuMs();
  return startCpu === undefined || now === undefined ? undefined : now - startCpu;
}

function report(settings: LoadSettings, client: string, { run, serverCpuMs }: Measured, stored: number): void {
  const sorted = Float64Array.from(run.latencies).sort();
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2);
  console.log(`client: ${client} thread; concurrency ${settings.concurrency}; ${run.seconds.toFixed(2)} s`);
  console.log(`sends: ${run.done} (${run.failures} not answered 200)`);
  console.log(`throughput: ${Math.round(run.done / run.seconds)} sends/s`);
  console.log(`latency ms: p50 ${at(0.5)}, p99 ${at(0.99)}, max ${at(1)}`);
  if (serverCpuMs !== undefined && serverCpuMs > 0) {
    // CPU time barely depends on what else runs on the machine: it says what one free core would do.
    const whose = client === 'inline' ? 'sandbox + client thread' : 'sandbox thread';
    const perSend = (serverCpuMs * 1_000) / run.done;
    console.log(`${whose} CPU: ${perSend.toFixed(0)} us/send, i.e. ${Math.round(1e6 / perSend)} sends per CPU-second`);
  }
  console.log(`store holds ${stored} messages (bounded by maxStored)`);
  if (run.failures > 0 || run.done < settings.sends) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
