import { cpuMs, type MinuteSample } from './soak-samples.js';
import type { LatencySummary } from './stats.js';

/** The soak's promise: latency and the CPU a notification costs do not grow with history, memory does not grow after warm-up. */
export const WINDOW_MINUTES = 5;
export const MAX_P99_GROWTH = 0.2;
export const MAX_MEMORY_GROWTH = 0.1;
export const MAX_CPU_GROWTH = 0.2;

export type SoakVerdict = {
  /** accepted → sent over every notification accepted in the first and in the last five minutes. */
  firstWindow: LatencySummary;
  lastWindow: LatencySummary;
  /** lastWindow.p99 ÷ firstWindow.p99 − 1: how much the p99 grew (negative: it fell). */
  p99Growth: number;
  p99Flat: boolean;
  /**
   * Per process: the highest RSS of the five minutes after the warm-up (minutes 6-10) and of the
   * last five. Empty when the soak is shorter than three windows: the two would overlap.
   */
  memory: Array<{ process: string; afterWarmUpMiB: number; lastWindowMiB: number; growth: number; flat: boolean }>;
  /** Undefined when memory was not judged (a soak shorter than three windows). */
  memoryFlat: boolean | undefined;
  /**
   * CPU per notification, all components, over the five minutes after the warm-up (minutes 6-10)
   * and over the last five: what each notification costs as history piles up between vacuums and
   * across them. Undefined when not measured or the soak is shorter than three windows.
   */
  cpu?: { afterWarmUpMs: number; lastWindowMs: number; growth: number; flat: boolean } | undefined;
};

/**
 * Judges a soak of at least two windows: the last five minutes' p99 grew by at most 20 % over the
 * first five's; and, from three windows on, no process's peak memory in the last five minutes is
 * more than 10 % above its peak in the five minutes after the warm-up. Peaks over whole windows,
 * not readings at one instant: a garbage-collected heap saws up and down by tens of MiB within a
 * minute, and what a deployment has to provide for, and what a leak raises, is the top of that saw.
 */
export function judgeSoak(
  minutes: MinuteSample[],
  windows: { first: LatencySummary; last: LatencySummary },
): SoakVerdict | undefined {
  if (minutes.length < 2 * WINDOW_MINUTES) return undefined;
  const memory = minutes.length < 3 * WINDOW_MINUTES ? [] : judgeMemory(minutes);
  const cpu = minutes.length < 3 * WINDOW_MINUTES ? undefined : judgeCpu(minutes);
  const p99Growth = windows.last.p99 / windows.first.p99 - 1;
  return {
    firstWindow: windows.first,
    lastWindow: windows.last,
    p99Growth,
    p99Flat: p99Growth <= MAX_P99_GROWTH,
    memory,
    memoryFlat: memory.length === 0 ? undefined : memory.every((entry) => entry.flat),
    cpu,
  };
}

/** Over whole windows (their CPU ÷ their notifications): one minute holds a vacuum, the next none. */
function judgeCpu(minutes: MinuteSample[]): SoakVerdict['cpu'] {
  const perNotification = (window: MinuteSample[]) => {
    const accepted = window.reduce((sum, sample) => sum + sample.accepted, 0);
    if (accepted === 0 || window.some((sample) => cpuMs(sample) === undefined)) return undefined;
    return window.reduce((sum, sample) => sum + (cpuMs(sample) ?? 0), 0) / accepted;
  };
  const afterWarmUpMs = perNotification(minutes.slice(WINDOW_MINUTES, 2 * WINDOW_MINUTES));
  const lastWindowMs = perNotification(minutes.slice(-WINDOW_MINUTES));
  if (afterWarmUpMs === undefined || lastWindowMs === undefined) return undefined;
  const growth = lastWindowMs / afterWarmUpMs - 1;
  return { afterWarmUpMs, lastWindowMs, growth, flat: growth <= MAX_CPU_GROWTH };
}

/**
 * The Mailjet double counts every email it took by its tracking id, so that the soak can tell a
 * repeated one (about 100 bytes an email): its memory grows with the run by design, and is shown,
 * not judged.
 */
export const MEMORY_NOT_JUDGED = ['sandbox'];

function judgeMemory(minutes: MinuteSample[]): SoakVerdict['memory'] {
  const afterWarmUp = minutes.slice(WINDOW_MINUTES, 2 * WINDOW_MINUTES);
  const last = minutes.slice(-WINDOW_MINUTES);
  const peak = (window: MinuteSample[], process: string) => {
    const readings = window
      .map((sample) => sample.rssPeakMiB[process])
      .filter((rss): rss is number => typeof rss === 'number');
    return readings.length === 0 ? undefined : Math.max(...readings);
  };
  const processes = Object.keys(minutes[0]?.rssPeakMiB ?? {}).filter((name) => !MEMORY_NOT_JUDGED.includes(name));
  return processes.flatMap((process) => {
    const afterWarmUpMiB = peak(afterWarmUp, process);
    const lastWindowMiB = peak(last, process);
    if (afterWarmUpMiB === undefined || lastWindowMiB === undefined) return [];
    const growth = lastWindowMiB / afterWarmUpMiB - 1;
    return [{ process, afterWarmUpMiB, lastWindowMiB, growth, flat: growth <= MAX_MEMORY_GROWTH }];
  });
}

const ms = (value: number) => (Math.round(value * 100) / 100).toFixed(2);
const percent = (ratio: number) => `${ratio >= 0 ? '+' : ''}${Math.round(ratio * 1000) / 10} %`;

export function renderVerdict(verdict: SoakVerdict | undefined): string[] {
  if (!verdict) return [`Flatness: not judged (a soak of at least ${2 * WINDOW_MINUTES} minutes is).`];
  const { firstWindow: first, lastWindow: last } = verdict;
  return [
    `Latency: accepted → sent over the first ${WINDOW_MINUTES} minutes p50 / p99 ${first.p50} / ${first.p99} ms, over the last ${WINDOW_MINUTES} ${last.p50} / ${last.p99} ms: p99 ${percent(verdict.p99Growth)} (at most +${MAX_P99_GROWTH * 100} %): **${verdict.p99Flat ? 'flat' : 'grew'}**.`,
    '',
    verdict.memoryFlat === undefined
      ? `Memory: not judged (a soak of at least ${3 * WINDOW_MINUTES} minutes is: warm-up, the window after it, the last window).`
      : `Memory, highest RSS in minutes ${WINDOW_MINUTES + 1}-${2 * WINDOW_MINUTES} (after the warm-up) → in the last ${WINDOW_MINUTES} minutes, MiB: ${verdict.memory
          .map((m) => `${m.process} ${m.afterWarmUpMiB} → ${m.lastWindowMiB} (${percent(m.growth)})`)
          .join(
            ', ',
          )} (at most +${MAX_MEMORY_GROWTH * 100} % each; not the ${MEMORY_NOT_JUDGED.join(', ')}, which counts every email it took): **${verdict.memoryFlat ? 'flat' : 'grew'}**.`,
    '',
    verdict.cpu === undefined
      ? `CPU per notification: not judged (measured since 2026-12-04, over a soak of at least ${3 * WINDOW_MINUTES} minutes).`
      : `CPU per notification, all components, minutes ${WINDOW_MINUTES + 1}-${2 * WINDOW_MINUTES} → the last ${WINDOW_MINUTES}: ${ms(verdict.cpu.afterWarmUpMs)} → ${ms(verdict.cpu.lastWindowMs)} ms (${percent(verdict.cpu.growth)}, at most +${MAX_CPU_GROWTH * 100} %): **${verdict.cpu.flat ? 'flat' : 'grew'}**.`,
  ];
}
