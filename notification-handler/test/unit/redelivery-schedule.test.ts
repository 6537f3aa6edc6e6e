import { describe, expect, it } from 'vitest';
import { distinctDelays, nextRedelivery } from '../../src/domain/redelivery-schedule.js';

const policy = { delaysMs: [30_000, 120_000, 600_000], deadlineMs: 3_600_000 };
const now = Date.parse('2026-11-30T10:00:00Z');
const farDeadline = new Date(now + 10 * 3_600_000);

describe('redelivery schedule', () => {
  it('When a notification is rescheduled again and again, then it waits each delay in turn and the last one repeats', () => {
    const waits = [0, 1, 2, 3, 7].map((done) => nextRedelivery(policy, done, farDeadline, now)?.delayMs);
    expect(waits).toEqual([30_000, 120_000, 600_000, 600_000, 600_000]);
    expect(nextRedelivery(policy, 1, farDeadline, now)).toEqual({
      delayMs: 120_000,
      at: new Date(now + 120_000),
      redeliveries: 2,
    });
  });

  it('When the next attempt would come after the deadline, then there is none', () => {
    expect(nextRedelivery(policy, 2, new Date(now + 599_999), now)).toBeUndefined();
    expect(nextRedelivery(policy, 2, new Date(now + 600_000), now)?.delayMs).toBe(600_000);
  });

  it('When a delay repeats in the schedule, then it gets one delay queue', () => {
    expect(distinctDelays({ delaysMs: [60_000, 30_000, 60_000] })).toEqual([30_000, 60_000]);
  });
});
