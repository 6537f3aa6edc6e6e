import { HANDLER_POOL, pairsAtHandlerPool } from './baseline.js';
import type { Baseline } from './report.js';

/**
 * The baselines of the run in which the throughput targets were set (2026-11-30). The targets are
 * absolute, and this machine's host is not the same from hour to hour: the same code has run
 * closed-0ms at 554/s on one host and 1,684/s on another. Scaled by the baselines, runs of the same
 * code landed within a tenth of each other over three hosts, and 1.7 times apart within one hour
 * of a noisy one, whose disk and cores slowed at different times (bench/README.md, "Host speed").
 */
export const TARGETS_HOST = {
  setOn: '2026-11-30',
  publishesPerSec: 19_629,
  postgresPairsPerSec: 4_012,
  /** The sizes those baselines ran at (the default run's): a rate is compared only with one measured alike. */
  messages: 20_000,
  confirmBatch: 200,
  pairs: 10_000,
};

/**
 * How fast this run's host is against the one the targets were set on: the geometric mean of the
 * two baselines' ratios (RabbitMQ publishes with confirms, PostgreSQL insert-then-update pairs),
 * since the pipeline's CPU goes to both kinds of work. Undefined without both baselines, or when
 * they ran at other sizes than the targets' (`--count` or `--baseline-count` set lower, say): a
 * shorter baseline pays its start-up over fewer messages and rows, and the reference's figures
 * are for its own sizes.
 */
export function hostSpeed(baseline: Baseline): number | undefined {
  const ratios = baselineRatios(baseline);
  return ratios && Math.sqrt(ratios.publishes * ratios.pairs);
}

/**
 * Each baseline against the targets' host's, under the same conditions as `hostSpeed`. Shown
 * beside the speed: when the two part (a disk slowed more than the cores), the speed scales a
 * scenario that mostly computes, a drain, by a disk's slowness.
 */
export function baselineRatios(baseline: Baseline): { publishes: number; pairs: number } | undefined {
  const rabbitmq = baseline.rabbitmq;
  const postgres = baseline.postgres.find((entry) => entry.pool === HANDLER_POOL);
  if (rabbitmq?.messages !== TARGETS_HOST.messages || rabbitmq.confirmBatch !== TARGETS_HOST.confirmBatch)
    return undefined;
  if (postgres?.pairs !== TARGETS_HOST.pairs) return undefined;
  const publishes = rabbitmq.publishConfirmPerSec;
  const pairs = pairsAtHandlerPool(baseline.postgres);
  if (!publishes || !pairs) return undefined;
  return { publishes: publishes / TARGETS_HOST.publishesPerSec, pairs: pairs / TARGETS_HOST.postgresPairsPerSec };
}

export type ScaledFigure = { label: string; value: number; unit: '/s' | 'ms' };

/** A rate as it would be on the targets' host (divided by the speed), a CPU cost multiplied. */
export function scaleToTargetsHost(figure: ScaledFigure, speed: number): ScaledFigure {
  return { ...figure, value: figure.unit === '/s' ? figure.value / speed : figure.value * speed };
}
