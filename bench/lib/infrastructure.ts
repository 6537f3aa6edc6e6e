import { randomBytes } from 'node:crypto';

/** Loopback only: the bench never sends traffic anywhere else. */
export const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function newRunId(): string {
  return `b${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

const cleanups = new Set<() => Promise<unknown>>();

/**
 * Registers what must be undone even if the run is cut short (global timeout, a signal): children
 * stopped, databases dropped, queues deleted. Returns the function that runs it once and forgets it.
 */
export function cleanupOnAbort(cleanup: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    done ??= cleanup().then(
      () => undefined,
      () => undefined,
    );
    cleanups.delete(once);
    return done;
  };
  cleanups.add(once);
  return once;
}

export async function runAllCleanups(): Promise<void> {
  await Promise.allSettled([...cleanups].map((cleanup) => cleanup()));
}

/** Set once an abort is under way: it exits, and the run it cut short must not exit first. */
let aborting = false;

/**
 * Cuts a run short on SIGINT, SIGTERM, or once `boundMs` has passed: `say` tells why, every
 * registered cleanup runs, then `afterCleanups` (what the run measured so far, written down), and
 * the process exits with 2. Returns what stops the clock.
 */
export function abortOnSignalsOrAfter(
  boundMs: number,
  say: (reason: string) => void,
  afterCleanups: () => Promise<unknown> = async () => undefined,
): () => void {
  const abort = async (reason: string) => {
    if (aborting) return;
    aborting = true;
    say(reason);
    await runAllCleanups();
    await afterCleanups().catch((error: unknown) => console.error('after the abort:', error));
    process.exit(2);
  };
  const timer = setTimeout(() => void abort(`global timeout of ${Math.round(boundMs / 1_000)} s`), boundMs);
  timer.unref();
  process.once('SIGINT', () => void abort('SIGINT'));
  process.once('SIGTERM', () => void abort('SIGTERM'));
  return () => clearTimeout(timer);
}

/**
 * Runs a standalone bench's main and exits with its code (1 on an error), the cleanups run first.
 * After an abort, main fails as its services go away under it: the abort exits, with 2.
 */
export function runBenchMain(main: () => Promise<number>): void {
  main().then(
    async (code) => {
      if (aborting) return;
      await runAllCleanups();
      process.exit(code);
    },
    async (error: unknown) => {
      if (aborting) return;
      console.error(error);
      await runAllCleanups();
      process.exit(1);
    },
  );
}
