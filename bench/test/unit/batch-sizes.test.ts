import { describe, expect, it } from 'vitest';
import { meanPerDistinct } from '../../lib/pipeline.js';

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
