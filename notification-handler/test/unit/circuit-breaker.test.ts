import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../src/provider-guard/circuit-breaker.js';

function breakerAt(start = 0) {
  let now = start;
  const changes: string[] = [];
  const breaker = createCircuitBreaker({ failuresToOpen: 3, probeIntervalMs: 5_000, now: () => now });
  breaker.onChange((state, previous) => changes.push(`${previous}->${state}`));
  return {
    breaker,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('circuit breaker', () => {
  it('When calls fail fewer times in a row than the threshold, then it stays closed and a success resets the run', () => {
    const { breaker } = breakerAt();
    breaker.record('failure', false);
    breaker.record('failure', false);
    breaker.record('success', false);
    breaker.record('failure', false);
    breaker.record('failure', false);

    expect(breaker.state()).toBe('closed');
    expect(breaker.admit()).toBe('call');
  });

  it('When the threshold of consecutive failures is reached, then it opens and refuses calls until the probe is due', () => {
    const { breaker, changes, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.record('failure', false);

    expect(breaker.state()).toBe('open');
    expect(breaker.admit()).toBe('refuse');
    advance(4_999);
    expect(breaker.admit()).toBe('refuse');
    advance(1);
    expect(breaker.admit()).toBe('probe');
    expect(breaker.state()).toBe('half_open');
    expect(breaker.admit()).toBe('refuse');
    expect(changes).toEqual(['closed->open', 'open->half_open']);
  });

  it('When the probe fails, then it opens again for a whole interval; when a probe succeeds, then it closes', () => {
    const { breaker, changes, advance } = breakerAt();
    for (let i = 0; i < 3; i++) breaker.record('failure', false);
    advance(5_000);
    expect(breaker.admit()).toBe('probe');
    breaker.record('failure', true);

    expect(breaker.state()).toBe('open');
    advance(4_000);
    expect(breaker.admit()).toBe('refuse');
    advance(1_000);
    expect(breaker.admit()).toBe('probe');
    breaker.record('success', true);

    expect(breaker.state()).toBe('closed');
    expect(breaker.admit()).toBe('call');
    expect(changes).toEqual([
      'closed->open',
      'open->half_open',
      'half_open->open',
      'open->half_open',
      'half_open->closed',
    ]);
  });

  it('When the breaker is open, then whenCallable waits for the probe to be due, and for the probe result while half-open', async () => {
    const breaker = createCircuitBreaker({ failuresToOpen: 1, probeIntervalMs: 50 });
    breaker.record('failure', false);
    const signal = new AbortController().signal;

    const openedAt = Date.now();
    await breaker.whenCallable(signal);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(45);
    expect(breaker.admit()).toBe('probe');

    let callable = false;
    const waiting = breaker.whenCallable(signal).then(() => {
      callable = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(callable).toBe(false);
    breaker.record('success', true);
    await waiting;
    expect(callable).toBe(true);
  });

  it('When the waiter is aborted, then whenCallable rejects', async () => {
    const breaker = createCircuitBreaker({ failuresToOpen: 1, probeIntervalMs: 60_000 });
    breaker.record('failure', false);
    const controller = new AbortController();
    const waiting = breaker.whenCallable(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
  });
});
