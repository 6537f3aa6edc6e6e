import { describe, expect, it } from 'vitest';
import { summarizeMemory } from '../../lib/memory.js';

describe('bench memory summary', () => {
  it('When samples are taken, then each process gets its peak and its last value', () => {
    const use = summarizeMemory(
      [
        { handler: 80, ticketing: 100 },
        { handler: 120, ticketing: 110 },
        { handler: 95, ticketing: 105 },
      ],
      1_000,
    );
    expect(use).toEqual({
      intervalMs: 1_000,
      samples: 3,
      byProcess: { handler: { peakMiB: 120, endMiB: 95 }, ticketing: { peakMiB: 110, endMiB: 105 } },
    });
  });

  it('When a process was stopped for part of the run, then the peak skips those samples and the end says what the last one saw', () => {
    const use = summarizeMemory([{ handler: null }, { handler: 90 }, { handler: 70 }, { handler: null }], 1_000);
    expect(use.byProcess.handler).toEqual({ peakMiB: 90, endMiB: null });
  });

  it('When nothing was sampled, then there is nothing to show', () => {
    expect(summarizeMemory([], 1_000)).toEqual({ intervalMs: 1_000, samples: 0, byProcess: {} });
  });
});
