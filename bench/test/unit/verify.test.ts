import { describe, expect, it } from 'vitest';
import { backlogDeliveryProblem } from '../../lib/verify.js';

describe('backlogDeliveryProblem', () => {
  it('When the queue holds each row once, then there is no problem', () => {
    expect(backlogDeliveryProblem(20_000, 20_000)).toBeUndefined();
  });

  it('When rows are missing from the queue, then that is a problem', () => {
    expect(backlogDeliveryProblem(19_999, 20_000)).toBe('19999 of 20000 rows reached the queue');
  });

  it('When the queue holds more messages than rows, then the duplicates are a problem', () => {
    expect(backlogDeliveryProblem(20_003, 20_000)).toMatch(/3 published twice/);
  });
});
