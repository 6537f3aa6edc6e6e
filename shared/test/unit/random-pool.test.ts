import { takeRandomBytes } from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';

describe('takeRandomBytes', () => {
  it('When many calls run through several refills of the pool, then no two hand out the same bytes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3_000; i += 1) seen.add(takeRandomBytes(16).toString('hex'));

    expect(seen.size).toBe(3_000);
  });

  it('When asked for a size that does not fit where the pool stands, then the bytes come whole from a refill', () => {
    takeRandomBytes(4_000);
    const bytes = takeRandomBytes(200);

    expect(bytes.length).toBe(200);
    expect(bytes.equals(Buffer.alloc(200))).toBe(false);
  });

  it('When asked for more than the pool holds, then it refuses', () => {
    expect(() => takeRandomBytes(4_097)).toThrow(RangeError);
  });
});
