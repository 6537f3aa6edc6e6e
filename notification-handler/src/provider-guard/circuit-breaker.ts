import { EventEmitter, once } from 'node:events';

import { withTimeout } from '../domain/abortable-sleep.js';
import type { BreakerState } from '../domain/email-provider.js';

export type { BreakerState };

/** How a call went, as far as the provider's health goes. */
export type CallResult = 'success' | 'failure';

export type BreakerSettings = {
  /** Consecutive failed calls that open the breaker. */
  failuresToOpen: number;
  /** While open, one call (the probe) may go this long after the last opening. */
  probeIntervalMs: number;
  now?: () => number;
};

/**
 * closed: calls go; `failuresToOpen` failed calls in a row open it. open: calls are refused; once
 * `probeIntervalMs` has passed, the next call is let through as the probe (half_open, every other
 * call still refused). The probe's success closes it; its failure opens it for another interval.
 */
export function createCircuitBreaker(settings: BreakerSettings) {
  const now = settings.now ?? Date.now;
  const events = new EventEmitter<{ change: [state: BreakerState, previous: BreakerState] }>();
  events.setMaxListeners(0);
  let state: BreakerState = 'closed';
  let consecutiveFailures = 0;
  let openedAt = 0;

  function moveTo(next: BreakerState): void {
    if (next === state) return;
    const previous = state;
    state = next;
    if (next === 'open') openedAt = now();
    if (next === 'closed') consecutiveFailures = 0;
    events.emit('change', next, previous);
  }

  const probeDueIn = () => Math.max(0, openedAt + settings.probeIntervalMs - now());

  return {
    state: () => state,
    consecutiveFailures: () => consecutiveFailures,
    onChange: (listener: (state: BreakerState, previous: BreakerState) => void) => events.on('change', listener),

    /** Whether `admit` would refuse a call now; changes nothing (a probe due stays due). */
    refuses(): boolean {
      return state === 'half_open' || (state === 'open' && probeDueIn() > 0);
    },

    /** Whether a call may go now: as an ordinary call, as the probe, or not at all. */
    admit(): 'call' | 'probe' | 'refuse' {
      if (state === 'closed') return 'call';
      if (state === 'open' && probeDueIn() === 0) {
        moveTo('half_open');
        return 'probe';
      }
      return 'refuse';
    },

    record(result: CallResult, asProbe: boolean): void {
      // Any answer that shows the provider working closes it, the probe's or a call's still in flight.
      if (result === 'success') {
        consecutiveFailures = 0;
        moveTo('closed');
        return;
      }
      if (asProbe && state === 'half_open') {
        moveTo('open');
        return;
      }
      consecutiveFailures += 1;
      if (state === 'closed' && consecutiveFailures >= settings.failuresToOpen) moveTo('open');
    },

    /**
     * Opens at once, whatever the count: the provider said it will refuse every call until someone
     * acts (our credentials). Probes go on as after any opening; the first that succeeds closes it.
     */
    trip(): void {
      consecutiveFailures = Math.max(consecutiveFailures, settings.failuresToOpen);
      moveTo('open');
    },

    /**
     * Resolves when a call may go: at once while closed, when the probe is due while open, when the
     * probe's answer is in while half-open. Rejects when `signal` aborts.
     */
    async whenCallable(signal: AbortSignal): Promise<void> {
      for (;;) {
        signal.throwIfAborted();
        if (state === 'closed') return;
        if (state === 'open' && probeDueIn() === 0) return;
        const changed = (wait: AbortSignal) => once(events, 'change', { signal: wait });
        if (state === 'open') await withTimeout(signal, probeDueIn(), changed).catch(() => undefined);
        else await changed(signal).catch(() => undefined);
      }
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
