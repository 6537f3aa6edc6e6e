import type { MinuteSample } from './soak-samples.js';
import type { LatencySummary } from './stats.js';

/** The soak's promise: latency does not grow with history, memory does not grow after warm-up. */
export const WINDOW_MINUTES = 5;
export const MAX_P99_GROWTH = 0.2;
export const MAX_MEMORY_GROWTH = 0.1;

export type SoakVerdict = {
  /** accepted → sent over every notification accepted in the first and in the last five minutes. */
  firstWindow: LatencySummary;
  lastWindow: LatencySummary;
  /** lastWindow.p99 ÷ firstWindow.p99 − 1: how much the p99 grew (negative: it fell). */
  p99Growth: number;
  p99Flat: boolean;
  /** Per process: RSS at the end of the warm-up (the first window) and the most it reached after. */
  memory: Array<{ process: string; afterWarmUpMiB: number; peakAfterMiB: number; growth: number; flat: boolean }>;
  memoryFlat: boolean;
};

/**
 * Judges a soak of at least two windows: the last five minutes' p99 grew by at most 20 % over the
 * first five's, and no process's memory grew by more than 10 % after the first five minutes.
 */
export function judgeSoak(
  minutes: MinuteSample[],
  windows: { first: LatencySummary; last: LatencySummary },
): SoakVerdict | undefined {
  if (minutes.length < 2 * WINDOW_MINUTES) return undefined;
  const warmUpEnd = minutes[WINDOW_MINUTES - 1] as MinuteSample;
  const after = minutes.slice(WINDOW_MINUTES);
  const memory = Object.entries(warmUpEnd.rssMiB).flatMap(([process, afterWarmUpMiB]) => {
    const later = after.map((sample) => sample.rssMiB[process]).filter((rss): rss is number => typeof rss === 'number');
    if (afterWarmUpMiB === null || later.length === 0) return [];
    const peakAfterMiB = Math.max(...later);
    const growth = peakAfterMiB / afterWarmUpMiB - 1;
    return [{ process, afterWarmUpMiB, peakAfterMiB, growth, flat: growth <= MAX_MEMORY_GROWTH }];
  });
  const p99Growth = windows.last.p99 / windows.first.p99 - 1;
  return {
    firstWindow: windows.first,
    lastWindow: windows.last,
    p99Growth,
    p99Flat: p99Growth <= MAX_P99_GROWTH,
    memory,
    memoryFlat: memory.every((entry) => entry.flat),
  };
}

const percent = (ratio: number) => `${ratio >= 0 ? '+' : ''}${Math.round(ratio * 1000) / 10} %`;

export function renderVerdict(verdict: SoakVerdict | undefined): string[] {
  if (!verdict) return [`Flatness: not judged (a soak of at least ${2 * WINDOW_MINUTES} minutes is).`];
  const { firstWindow: first, lastWindow: last } = verdict;
  return [
    `Latency: accepted → sent over the first ${WINDOW_MINUTES} minutes p50 / p99 ${first.p50} / ${first.p99} ms, over the last ${WINDOW_MINUTES} ${last.p50} / ${last.p99} ms: p99 ${percent(verdict.p99Growth)} (at most +${MAX_P99_GROWTH * 100} %): **${verdict.p99Flat ? 'flat' : 'grew'}**.`,
    '',
    `Memory after the first ${WINDOW_MINUTES} minutes (RSS then → most after, MiB): ${verdict.memory
      .map((m) => `${m.process} ${m.afterWarmUpMiB} → ${m.peakAfterMiB} (${percent(m.growth)})`)
      .join(', ')} (at most +${MAX_MEMORY_GROWTH * 100} % each): **${verdict.memoryFlat ? 'flat' : 'grew'}**.`,
  ];
}
