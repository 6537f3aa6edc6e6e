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

  it('When the provider asks for a pause while calls wait for their slots, then none of them goes before it ends', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10 });
    const times: number[] = [];
    const waiting = Array.from({ length: 5 }, () => limiter.take().then(() => times.push(Date.now())));

    await vi.advanceTimersByTimeAsync(150);
    limiter.pauseFor(1_000);
    await vi.runAllTimersAsync();
    await Promise.all(waiting);

    // Slots 0 and 100 went before the 429 came at 150; the other three wait for its end, spaced again.
    expect(times.sort((a, b) => a - b)).toEqual([0, 100, 1_150, 1_250, 1_350]);
  });

  it('When 429 after 429 keeps the calls paused, then a waiting call goes once it has waited its longest wait in all', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10, maxPauseWaitMs: 1_000 });
    limiter.pauseFor(800);
    let wentAt: number | undefined;
    const waiting = limiter.take().then(() => {
      wentAt = Date.now();
    });

    await vi.advanceTimersByTimeAsync(700);
    limiter.pauseFor(800);
    await vi.advanceTimersByTimeAsync(700);
    limiter.pauseFor(800);
    await vi.runAllTimersAsync();
    await waiting;

    // Asked at 0, paused to 800, then to 1,500, then to 2,200: at 1,500 it had waited its 1,000.
    expect(wentAt).toBe(1_500);
  });

  it('When the limiter stops, then a call waiting out a pause ends at once without its slot, and no later call gets one', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10 });
    limiter.pauseFor(30_000);
    const waiting = limiter.take();

    await vi.advanceTimersByTimeAsync(100);
    limiter.stop();

    expect(await waiting).toBe(false);
    expect(Date.now()).toBe(100);
    expect(await limiter.take()).toBe(false);
  });

  it('When the limiter has not stopped, then each call gets its slot', async () => {
    const limiter = createCallRateLimiter({ maxPerSecond: 10 });
    const slots = [limiter.take(), limiter.take()];
    await vi.runAllTimersAsync();
    expect(await Promise.all(slots)).toEqual([true, true]);
  });
});
