import { describe, expect, it } from 'vitest';
import type { MinuteSample } from '../../lib/soak-samples.js';
import { judgeSoak } from '../../lib/soak-verdict.js';
import { summarize } from '../../lib/stats.js';

const minute = (n: number, handlerMiB: number): MinuteSample => ({
  minute: n,
  accepted: 18_000,
  latencyMs: summarize([50]),
  notSent: 0,
  rssPeakMiB: { handler: handlerMiB, ticketing: 180 },
  tables: {},
  flowsStarted: 9_000,
  flowsSkipped: 0,
  flowErrors: 0,
});
const latencies = (p99: number) => summarize([...Array(90).fill(40), ...Array(10).fill(p99)]);

describe('judgeSoak', () => {
  it('When the last window p99 grew by a fifth or less and memory held after the warm-up, then the soak is flat', () => {
    // Growth during the warm-up (minutes 1-5) is allowed; a saw-tooth after it is not growth.
    const minutes = Array.from({ length: 20 }, (_, i) => minute(i + 1, i < 5 ? 100 + i * 10 : i % 2 ? 150 : 160));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(590) });
    expect(verdict).toMatchObject({ p99Flat: true, memoryFlat: true });
    expect(verdict?.memory.find((m) => m.process === 'handler')).toMatchObject({
      afterWarmUpMiB: 160,
      lastWindowMiB: 160,
    });
  });

  it('When the last window p99 grew by more than a fifth, then latency is not flat', () => {
    const minutes = Array.from({ length: 10 }, (_, i) => minute(i + 1, 150));
    expect(judgeSoak(minutes, { first: latencies(500), last: latencies(610) })?.p99Flat).toBe(false);
  });

  it('When a process grows by more than a tenth after warm-up, then memory is not flat and that process says so', () => {
    // Minutes 6-10 peak at 150 + 9 * 3 = 177, the last five at 150 + 19 * 3 = 207: +17 %.
    const minutes = Array.from({ length: 20 }, (_, i) => minute(i + 1, 150 + i * 3));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict?.memoryFlat).toBe(false);
    expect(verdict?.memory.find((m) => m.process === 'handler')).toMatchObject({
      afterWarmUpMiB: 177,
      lastWindowMiB: 207,
      flat: false,
    });
    expect(verdict?.memory.find((m) => m.process === 'ticketing')?.flat).toBe(true);
  });

  it('When the soak has two windows but not three, then latency is judged and memory is not', () => {
    const minutes = Array.from({ length: 12 }, (_, i) => minute(i + 1, 150 + i * 50));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict).toMatchObject({ p99Flat: true, memoryFlat: undefined, memory: [] });
  });

  it('When the soak is shorter than two windows, then it is not judged', () => {
    expect(judgeSoak([minute(1, 100)], { first: latencies(1), last: latencies(1) })).toBeUndefined();
  });
});
