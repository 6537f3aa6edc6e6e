import { describe, expect, it } from 'vitest';
import { fraction, percentile, ratePerSecond, summarize } from '../../lib/stats.js';

describe('percentile (nearest rank)', () => {
  it('When asked for p50 of 1..10, then it is 5 and p99 is 10', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 0.5)).toBe(5);
    expect(percentile(sorted, 0.99)).toBe(10);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('When there are no values, then every figure is 0 rather than NaN', () => {
    expect(summarize([])).toEqual({ count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});

describe('summarize', () => {
  it('When values come unsorted, then percentiles are taken over the sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(values)).toMatchObject({ count: 100, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });
});

describe('rates and fractions', () => {
  it('When 2,000 events span 1,000 ms, then the rate is 2,000/s', () => {
    expect(ratePerSecond(2_000, 1_000)).toBe(2_000);
  });

  it('When the span or the whole is zero, then the figure is 0, not Infinity', () => {
    expect(ratePerSecond(10, 0)).toBe(0);
    expect(fraction(5, 0)).toBe(0);
    expect(fraction(1, 3)).toBe(0.333);
  });
});
