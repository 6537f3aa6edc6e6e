import { describe, expect, it } from 'vitest';
import type { MinuteSample } from '../../lib/soak-samples.js';
import { cpuPerNotification } from '../../lib/soak-samples.js';
import { judgeSoak } from '../../lib/soak-verdict.js';
import { summarize } from '../../lib/stats.js';

const minute = (n: number, handlerMiB: number, cpuMsPerNotification?: number): MinuteSample => ({
  minute: n,
  accepted: 18_000,
  latencyMs: summarize([50]),
  notSent: 0,
  // The sandbox's tally grows with every email, by design.
  rssPeakMiB: { handler: handlerMiB, ticketing: 180, sandbox: 150 + n * 10 },
  tables: {},
  flowsStarted: 9_000,
  flowsSkipped: 0,
  flowErrors: 0,
  ...(cpuMsPerNotification === undefined
    ? {}
    : {
        // 18,000 notifications: a third of the CPU in the handler's PostgreSQL, the rest in the handler.
        cpuMs: { handler: 12_000 * cpuMsPerNotification, 'postgresql ← handler': 6_000 * cpuMsPerNotification },
        otherCpuMs: 0,
      }),
});
const latencies = (p99: number) => summarize([...Array(90).fill(40), ...Array(10).fill(p99)]);

describe('cpuPerNotification', () => {
  it('When the soak’s own checks used CPU in a minute, then it is not part of what the notifications cost', () => {
    const sample = minute(6, 150, 1);
    const withChecks = { ...sample, cpuMs: { ...sample.cpuMs, 'postgresql ← bench checks': 9_000 } };
    expect(cpuPerNotification(withChecks)).toBe(1);
  });
});

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

  it('When the sandbox grows with its tally of emails, then memory is judged without it', () => {
    const minutes = Array.from({ length: 20 }, (_, i) => minute(i + 1, 150));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict?.memoryFlat).toBe(true);
    expect(verdict?.memory.map((m) => m.process)).toEqual(['handler', 'ticketing']);
  });

  it('When the soak has two windows but not three, then latency is judged and memory is not', () => {
    const minutes = Array.from({ length: 12 }, (_, i) => minute(i + 1, 150 + i * 50));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict).toMatchObject({ p99Flat: true, memoryFlat: undefined, memory: [] });
  });

  it('When each notification costs at most a fifth more in the last window than after the warm-up, then CPU is flat, whatever the warm-up cost', () => {
    // Warm-up at 3 ms, minutes 6-10 at 1.5, the last five alternating 1.6 and 1.9 (a vacuum's minute): 1.72 on average.
    const minutes = Array.from({ length: 20 }, (_, i) =>
      minute(i + 1, 150, i < 5 ? 3 : i < 15 ? 1.5 : i % 2 ? 1.9 : 1.6),
    );
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict?.cpu?.afterWarmUpMs).toBeCloseTo(1.5);
    expect(verdict?.cpu?.lastWindowMs).toBeCloseTo((1.6 * 2 + 1.9 * 3) / 5);
    expect(verdict?.cpu?.flat).toBe(true);
  });

  it('When each notification costs more and more as history piles up, then CPU is not flat', () => {
    const minutes = Array.from({ length: 20 }, (_, i) => minute(i + 1, 150, 1 + i * 0.05));
    const verdict = judgeSoak(minutes, { first: latencies(500), last: latencies(500) });
    expect(verdict?.cpu?.growth).toBeGreaterThan(0.2);
    expect(verdict?.cpu?.flat).toBe(false);
  });

  it('When CPU was not measured (a soak recorded before it was), then CPU is not judged', () => {
    const minutes = Array.from({ length: 20 }, (_, i) => minute(i + 1, 150));
    expect(judgeSoak(minutes, { first: latencies(500), last: latencies(500) })?.cpu).toBeUndefined();
  });

  it('When a minute is read per notification, then its CPU is divided by the notifications accepted in it, in all or for one component', () => {
    const sample = minute(1, 150, 2);
    expect(cpuPerNotification(sample)).toBeCloseTo(2);
    expect(cpuPerNotification(sample, 'postgresql ← handler')).toBeCloseTo(2 / 3);
    expect(cpuPerNotification(sample, 'rabbitmq')).toBe(0);
    expect(cpuPerNotification({ ...sample, accepted: 0 })).toBeUndefined();
  });

  it('When the soak is shorter than two windows, then it is not judged', () => {
    expect(judgeSoak([minute(1, 100)], { first: latencies(1), last: latencies(1) })).toBeUndefined();
  });
});
