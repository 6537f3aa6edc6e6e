import type pg from 'pg';
import type { CpuSnapshot } from './cpu-accounting.js';
import { databaseNow, type RunRows, readProgress, type StageTimings } from './pipeline.js';
import { ratePerSecond } from './stats.js';

/** A drain's measured part: from `openedAt` (the database's clock), once its warm-up was settled. */
export type DrainWindow = { openedAt: Date; settledBefore: number; cpuBefore: CpuSnapshot };

export type DrainWarmUp = {
  /** Settled when the window opened: the warm-up, and the few past it that the wait's last poll found. */
  leftOut: number;
  /** The handler's first claim → its last send, every notification of the drain. */
  fromFirstClaimPerSec: number;
};

/**
 * A handler started afresh compiles its hot paths, opens its pools' connections and prepares its
 * statements on its first deliveries: in a drain of 20,000 its first second ran at about half the
 * rate of the rest (bench/README.md, "Warm-up"). A drain's rate is its steady state's, as the closed
 * loop's is after its own warm-up: the window opens once `warmUp` notifications are settled, with the
 * CPU read at that moment.
 */
export async function openDrainWindow(
  db: pg.Pool,
  warmUp: number,
  snapshot: () => Promise<CpuSnapshot>,
  bounds: { deadline: number; run: RunRows },
): Promise<DrainWindow> {
  const settledBefore = await waitForWarmUp(db, warmUp, bounds);
  const cpuBefore = await snapshot();
  const openedAt = await databaseNow(db);
  return { openedAt, settledBefore, cpuBefore };
}

/**
 * Nothing is measured during the warm-up, so its end is read closely (a drain settles thousands a
 * second): the window then opens near `warmUp` settled, not a second of the drain past it.
 */
const WARM_UP_POLL_MS = 50;
const WARM_UP_STALL_MS = 60_000;
/** A drain's outbox is all published before its handler starts: the progress reads skip it. */
const PUBLISHED_ALREADY = { outbox: 0, published: 0 };

/** Settled when the wait ended: the warm-up, and the few past it that the last poll found. */
async function waitForWarmUp(
  db: pg.Pool,
  warmUp: number,
  { deadline, run }: { deadline: number; run: RunRows },
): Promise<number> {
  let settled = 0;
  let movedAt = Date.now();
  while (settled < warmUp) {
    if (Date.now() > deadline) throw new Error(`drain warm-up: global deadline reached at ${settled} settled`);
    if (Date.now() - movedAt > WARM_UP_STALL_MS)
      throw new Error(`drain warm-up: no progress for ${WARM_UP_STALL_MS} ms at ${settled} settled`);
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_POLL_MS));
    const { sent, failed } = await readProgress(db, run, PUBLISHED_ALREADY);
    if (sent + failed !== settled) movedAt = Date.now();
    settled = sent + failed;
  }
  return settled;
}

/** A drain's window once it is over: its opening, and the sends after it (read by their sent_at). */
export type ClosedDrainWindow = Pick<DrainWindow, 'openedAt' | 'settledBefore'> & { sends: number };

/**
 * What a drain measured: the sends it counts and the span they took. Without a warm-up, every
 * notification sent once from the handler's first claim (before it, nothing was consumed on
 * purpose); with one, the sends of its window, with the whole drain's rate beside them.
 */
export function drainFigures({
  window,
  spans,
  sentOnce,
}: {
  window: ClosedDrainWindow | undefined;
  spans: Pick<StageTimings['spans'], 'firstClaimed' | 'lastSent'>;
  sentOnce: number;
}): { endToEndMs: number; sent: number; warmUp: DrainWarmUp | undefined } {
  const fromFirstClaimMs = spans.lastSent - spans.firstClaimed;
  if (!window) return { endToEndMs: fromFirstClaimMs, sent: sentOnce, warmUp: undefined };
  return {
    endToEndMs: spans.lastSent - window.openedAt.getTime(),
    sent: window.sends,
    warmUp: { leftOut: window.settledBefore, fromFirstClaimPerSec: ratePerSecond(sentOnce, fromFirstClaimMs) },
  };
}
