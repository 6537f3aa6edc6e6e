import { describe, expect, it } from 'vitest';
import { drainFigures } from '../../lib/drain-window.js';

const spans = { firstClaimed: 10_000, lastSent: 15_000 };

describe('a drain’s measured figures', () => {
  it('When the drain had no warm-up, then it counts every notification sent once from the first claim', () => {
    expect(drainFigures({ window: undefined, spans, sentOnce: 20_000 })).toEqual({
      endToEndMs: 5_000,
      sent: 20_000,
      warmUp: undefined,
    });
  });

  it('When a warm-up came first, then the sends after the window opened over the time from its opening count, and the whole drain’s rate is kept beside them', () => {
    const window = { openedAt: new Date(11_000), settledBefore: 2_150, sends: 19_850 };
    expect(drainFigures({ window, spans, sentOnce: 22_000 })).toEqual({
      endToEndMs: 4_000,
      sent: 19_850,
      warmUp: { leftOut: 2_150, fromFirstClaimPerSec: 4_400 },
    });
  });
});
