import { type Components, componentPids, runBackends } from './cpu-accounting.js';
import { residentMiB } from './soak-samples.js';

/** The run database's backends together: there are dozens, and they come and go with the pools. */
export const POSTGRES_BACKENDS = 'postgresql backends (sum)';

/** Resident memory of one process or component over a scenario, MiB; null when never seen. */
export type MemoryPeak = { peakMiB: number | null; endMiB: number | null };

export type MemoryUse = { intervalMs: number; samples: number; byProcess: Record<string, MemoryPeak> };

export type MemorySample = Record<string, number | null>;

/**
 * VmRSS of each component now (the processes the CPU accounting finds), MiB. The brokers are
 * found once by the caller: they outlive a scenario, and finding them each second would cost more
 * CPU than the sampling itself.
 */
export async function sampleMemory(components: Components, brokers: number[]): Promise<MemorySample> {
  const sizes: MemorySample = {};
  for (const [name, pids] of Object.entries(await componentPids(components, brokers)))
    sizes[name] = await totalMiB(pids);
  const backends = await runBackends(components);
  sizes[POSTGRES_BACKENDS] = await totalMiB(backends.map((backend) => backend.pid));
  return sizes;
}

/** Several processes of one component add up; null when none of them is running. */
async function totalMiB(pids: number[]): Promise<number | null> {
  let total: number | null = null;
  for (const pid of pids) {
    const mib = await residentMiB(pid);
    if (mib !== null) total = (total ?? 0) + mib;
  }
  return total === null ? null : Math.round(total * 10) / 10;
}

/** Peak and last value per process; a process absent from a sample (a handler stopped for a drain) is skipped there. */
export function summarizeMemory(samples: MemorySample[], intervalMs: number): MemoryUse {
  const byProcess: Record<string, MemoryPeak> = {};
  for (const sample of samples) {
    for (const [name, mib] of Object.entries(sample)) {
      const peak = byProcess[name]?.peakMiB ?? null;
      byProcess[name] = { peakMiB: mib === null ? peak : Math.max(peak ?? 0, mib), endMiB: null };
    }
  }
  const last = samples.at(-1) ?? {};
  for (const [name, entry] of Object.entries(byProcess)) entry.endMiB = last[name] ?? null;
  return { intervalMs, samples: samples.length, byProcess };
}

/**
 * Samples every `intervalMs` until `stop()`, which takes one more sample (the value at the end)
 * and summarizes. A failed sample is skipped: memory is an observation, not a reason to lose a run.
 */
export function sampleMemoryEvery(
  intervalMs: number,
  sample: () => Promise<MemorySample>,
): { stop: () => Promise<MemoryUse> } {
  const samples: MemorySample[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped: Promise<MemoryUse> | undefined;
  const take = () =>
    sample().then(
      (taken) => void samples.push(taken),
      () => undefined,
    );
  // At a fixed rate: a sample slowed down by a busy box does not stretch the interval.
  const tick = () => {
    const startedAt = Date.now();
    inFlight = take().then(() => {
      if (!stopped) timer = setTimeout(tick, Math.max(0, startedAt + intervalMs - Date.now())).unref();
    });
  };
  tick();
  return {
    stop: () => {
      stopped ??= (async () => {
        clearTimeout(timer);
        await inFlight;
        await take();
        return summarizeMemory(samples, intervalMs);
      })();
      return stopped;
    },
  };
}
