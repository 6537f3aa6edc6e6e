import { describe, expect, it } from 'vitest';
import { nextPollMs } from '../../lib/pipeline.js';

describe('nextPollMs', () => {
  it('When no pace is known yet, then the next read is in 250 ms', () => {
    expect(nextPollMs(20_000, undefined)).toBe(250);
  });

  it('When the end is far at the pace of the last reads, then once a second', () => {
    // 20,000 left at 3 a ms: 6.7 s away.
    expect(nextPollMs(20_000, 3)).toBe(1_000);
  });

  it('When the end nears, then at half the time the pace leaves, down to 50 ms', () => {
    expect(nextPollMs(1_500, 3)).toBe(250);
    expect(nextPollMs(30, 3)).toBe(50);
  });

  it('When nothing moved between the last reads, then once a second', () => {
    expect(nextPollMs(500, 0)).toBe(1_000);
  });
});
