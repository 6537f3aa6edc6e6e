import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId } from '../../src/domain/new-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit millisecond timestamp at the front of a UUIDv7. */
function millisecondsOf(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('newId', () => {
  afterEach(() => vi.restoreAllMocks());

  it('When thousands of keys are made, across many refills of the random pool, then each is a UUIDv7 and none repeats', () => {
    const ids = Array.from({ length: 5_000 }, () => newId());

    expect(ids.filter((id) => !UUID_V7.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('When keys are made a millisecond apart, then they sort in the order they were made', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(newId());
      const made = Date.now();
      while (Date.now() === made) await new Promise((resolve) => setImmediate(resolve));
    }

    expect([...ids].sort()).toEqual(ids);
    expect(millisecondsOf(ids[4] ?? '') - millisecondsOf(ids[0] ?? '')).toBeGreaterThanOrEqual(4);
  });

  it('When keys are made, then the random source is not asked once per key', () => {
    const perKey = vi.spyOn(globalThis.crypto, 'getRandomValues');

    for (let i = 0; i < 1_000; i += 1) newId();

    expect(perKey).not.toHaveBeenCalled();
  });
});
