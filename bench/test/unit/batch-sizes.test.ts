import { describe, expect, it } from 'vitest';
import { emailsPerCall, meanPerDistinct } from '../../lib/pipeline.js';

describe('meanPerDistinct (notifications per transaction, from the timestamps they share)', () => {
  it('When 7 rows carry 3 distinct timestamps, then each transaction carried 2.3 on average', () => {
    const publishedAt = [1000.001, 1000.001, 1000.001, 1003.5, 1003.5, 1009.25, 1009.25];
    expect(meanPerDistinct(publishedAt)).toBe(2.3);
  });

  it('When every row has a timestamp of its own, then each transaction carried one', () => {
    expect(meanPerDistinct([1, 2, 3, 4])).toBe(1);
  });

  it('When there are no rows, then the figure is 0 rather than NaN', () => {
    expect(meanPerDistinct([])).toBe(0);
  });
});

describe('emailsPerCall (emails per provider call, from the sandbox count of calls)', () => {
  it('When 20,000 emails went out in 2,857 calls, then each call carried 7 on average, to one decimal', () => {
    expect(emailsPerCall(20_000, 2_857)).toBe(7);
    expect(emailsPerCall(20_000, 3_000)).toBe(6.7);
  });

  it('When no call was made, then there is no figure rather than Infinity', () => {
    expect(emailsPerCall(0, 0)).toBeUndefined();
  });
});
