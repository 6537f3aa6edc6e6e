import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCallRateLimiter } from '../../src/provider-guard/call-rate-limiter.js';

describe('call-rate limiter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function callTimes(limiter: ReturnType<typeof createCallRateLimiter>, calls: number): Promise<number[]> {
    const times: number[] = [];
    const all = Array.from({ length: calls }, () => limiter.take().then(() => times.push(Date.now())));
    await vi.runAllTimersAsync();
    await Promise.all(all);
    return times.sort((a, b) => a - b);
  }

  it('When calls come in a burst, then they go out evenly spaced at the limit', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10 });
    expect(await callTimes(limiter, 5)).toEqual([0, 100, 200, 300, 400]);
  });

  it('When the provider asks for a pause, then no call goes before it ends', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10 });
    limiter.pauseFor(2_000);
    expect(await callTimes(limiter, 2)).toEqual([2_000, 2_100]);
  });
});
