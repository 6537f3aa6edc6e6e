import { describe, expect, it } from 'vitest';
import { DeliveryTally } from '../../src/index.js';

describe('DeliveryTally', () => {
  it('When ids repeat and some messages carry none, then each id is counted by its messages and the rest as untracked', () => {
    const tally = new DeliveryTally();

    for (const id of ['a', 'b', 'a', undefined, '__proto__']) tally.record(id);

    expect(tally.snapshot()).toEqual({
      counts: { a: 2, b: 1, ['__proto__']: 1 },
      untracked: 1,
      complete: true,
      notCounted: 0,
    });
    expect(Object.keys(tally.snapshot().counts)).toContain('__proto__');
  });

  it('When a new id arrives with the bound reached, then it is left out and the tally says so; known ids go on counting', () => {
    const tally = new DeliveryTally(2);

    for (const id of ['a', 'b', 'c', 'a', 'c']) tally.record(id);

    expect(tally.snapshot()).toEqual({ counts: { a: 2, b: 1 }, untracked: 0, complete: false, notCounted: 2 });
  });

  it('When cleared, then it counts from nothing, complete again', () => {
    const tally = new DeliveryTally(1);
    for (const id of ['a', 'b', undefined]) tally.record(id);

    tally.clear();
    tally.record('b');

    expect(tally.snapshot()).toEqual({ counts: { b: 1 }, untracked: 0, complete: true, notCounted: 0 });
  });

  it('When the bound is not a whole number of at least 1, then it refuses to start', () => {
    expect(() => new DeliveryTally(0)).toThrow(RangeError);
    expect(() => new DeliveryTally(1.5)).toThrow(/maxTracked/);
  });
});
