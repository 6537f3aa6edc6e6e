import { describe, expect, it } from 'vitest';
import { baselineRatios, hostSpeed, scaleToTargetsHost, TARGETS_HOST } from '../../lib/host-speed.js';
import type { Baseline } from '../../lib/report.js';

function baseline(publishesPerSec: number | undefined, pairs: Array<{ pool: number; pairsPerSec: number }>): Baseline {
  return {
    rabbitmq:
      publishesPerSec === undefined
        ? undefined
        : {
            queueType: 'quorum',
            messages: TARGETS_HOST.messages,
            messageBytes: 480,
            confirmBatch: 200,
            prefetch: 500,
            publishConfirmPerSec: publishesPerSec,
            consumeAckPerSec: 50_000,
          },
    postgres: pairs.map((entry) => ({ pairs: TARGETS_HOST.pairs, ...entry })),
  };
}

describe('host speed against the host the targets were set on', () => {
  it('When both baselines are those of the targets’ run, then the host is as fast; twice both, twice as fast', () => {
    const { publishesPerSec, postgresPairsPerSec } = TARGETS_HOST;
    expect(hostSpeed(baseline(publishesPerSec, [{ pool: 20, pairsPerSec: postgresPairsPerSec }]))).toBeCloseTo(1, 6);
    expect(hostSpeed(baseline(2 * publishesPerSec, [{ pool: 20, pairsPerSec: 2 * postgresPairsPerSec }]))).toBeCloseTo(
      2,
      6,
    );
  });

  it('When the broker is four times as fast and the database as fast, then the host counts twice as fast (geometric mean)', () => {
    const speed = hostSpeed(
      baseline(4 * TARGETS_HOST.publishesPerSec, [
        { pool: 10, pairsPerSec: 1 },
        { pool: 20, pairsPerSec: TARGETS_HOST.postgresPairsPerSec },
      ]),
    );
    expect(speed).toBeCloseTo(2, 6);
  });

  it('When the broker and the database part, then each baseline’s ratio is given beside the speed', () => {
    const ratios = baselineRatios(
      baseline(0.86 * TARGETS_HOST.publishesPerSec, [
        { pool: 20, pairsPerSec: 0.56 * TARGETS_HOST.postgresPairsPerSec },
      ]),
    );
    expect(ratios?.publishes).toBeCloseTo(0.86, 6);
    expect(ratios?.pairs).toBeCloseTo(0.56, 6);
    expect(baselineRatios(baseline(undefined, [{ pool: 20, pairsPerSec: 4_000 }]))).toBeUndefined();
  });

  it('When a baseline is missing, or PostgreSQL ran only at another pool size, then there is no speed', () => {
    expect(hostSpeed(baseline(undefined, [{ pool: 20, pairsPerSec: 4_000 }]))).toBeUndefined();
    expect(hostSpeed(baseline(20_000, [{ pool: 10, pairsPerSec: 4_000 }]))).toBeUndefined();
    expect(hostSpeed(baseline(20_000, [{ pool: 20, pairsPerSec: 0 }]))).toBeUndefined();
  });

  it('When a baseline ran at other sizes than the targets’ baselines, then there is no speed to compare', () => {
    const { publishesPerSec, postgresPairsPerSec } = TARGETS_HOST;
    const full = baseline(publishesPerSec, [{ pool: 20, pairsPerSec: postgresPairsPerSec }]);
    const rabbitmq = full.rabbitmq as NonNullable<Baseline['rabbitmq']>;
    expect(hostSpeed({ ...full, rabbitmq: { ...rabbitmq, messages: 4_000 } })).toBeUndefined();
    expect(hostSpeed({ ...full, rabbitmq: { ...rabbitmq, confirmBatch: 50 } })).toBeUndefined();
    expect(
      hostSpeed({ ...full, postgres: [{ pool: 20, pairs: 4_000, pairsPerSec: postgresPairsPerSec }] }),
    ).toBeUndefined();
  });

  it('When figures are scaled to a host half as fast, then rates halve and CPU costs double', () => {
    expect(scaleToTargetsHost({ label: 'closed-0ms', value: 1_500, unit: '/s' }, 2).value).toBe(750);
    expect(scaleToTargetsHost({ label: 'CPU', value: 1.1, unit: 'ms' }, 2).value).toBeCloseTo(2.2, 6);
  });
});
