import { randomInt } from 'node:crypto';
import { type FailStatus, type FaultSettings, type FaultSettingsInput, parseFaultSettings } from './fault-settings.js';

export type FaultAction = 'none' | 'fail' | 'throttle' | 'hang' | 'reset';

/** What one send call suffers, fixed when it arrives. */
export type FaultDecision = {
  action: FaultAction;
  status: FailStatus;
  latencyMs: number;
  failDomain: string | null;
  refusedSenderDomain: string | null;
  retryAfterSeconds: number | null;
};

/** Milliseconds from a monotonic clock; tests pass their own to move time. */
export type Clock = () => number;

const WINDOW_MS = 1_000;

/** mulberry32: tiny, fast, and the same sequence for the same seed on every machine. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const noFaults = (seed: number): FaultSettings => ({
  failNext: 0,
  status: 500,
  failRate: 0,
  seed,
  latencyMs: 0,
  hangNext: 0,
  resetNext: 0,
  failRecipients: null,
  refuseSenders: null,
  maxCallsPerSecond: null,
  retryAfterSeconds: null,
});

/** One provider's faults; `ProviderFaults` holds one per provider. */
export class FaultController {
  private settings: FaultSettings;
  private random: () => number;
  private readonly now: Clock;
  /** The current rate-limit window: when its first call came, and how many calls it has had. */
  private window = { startedAt: Number.NEGATIVE_INFINITY, calls: 0 };

  constructor(initial: FaultSettingsInput = {}, now: Clock = () => performance.now()) {
    this.now = now;
    this.settings = noFaults(randomInt(0, 2 ** 32));
    this.random = mulberry32(this.settings.seed);
    this.set(initial);
  }

  /**
   * Merges the given fields into the current settings. Giving `seed` or `failRate` restarts the
   * PRNG from the seed, so the same settings followed by the same calls fail the same calls;
   * giving `maxCallsPerSecond` starts a new rate-limit window with the next call.
   */
  set(partial: FaultSettingsInput): FaultSettings {
    const patch = parseFaultSettings(partial);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    this.settings = { ...this.settings, ...defined };
    if (patch.seed !== undefined || patch.failRate !== undefined) this.random = mulberry32(this.settings.seed);
    if (patch.maxCallsPerSecond !== undefined) this.closeWindow();
    return this.current();
  }

  clear(): FaultSettings {
    this.settings = noFaults(this.settings.seed);
    this.random = mulberry32(this.settings.seed);
    this.closeWindow();
    return this.current();
  }

  current(): FaultSettings {
    return { ...this.settings };
  }

  /**
   * Called once per send call, synchronously as it arrives, so that concurrent calls each
   * consume their own unit. Every counter above zero counts this call ("the next N calls" holds for
   * each); when several apply, the strongest wins: hang, then reset, then the rate limit (it stands
   * in front of the service that fails), then fail.
   */
  onSendCall(): FaultDecision {
    const s = this.settings;
    const hang = s.hangNext > 0;
    const reset = s.resetNext > 0;
    const failCounted = s.failNext > 0;
    if (hang) s.hangNext -= 1;
    if (reset) s.resetNext -= 1;
    if (failCounted) s.failNext -= 1;
    const failDrawn = s.failRate > 0 && this.random() < s.failRate;
    return {
      action: strongest({ hang, reset, throttle: this.overRateLimit(), fail: failCounted || failDrawn }),
      status: s.status,
      latencyMs: s.latencyMs,
      failDomain: s.failRecipients,
      refusedSenderDomain: s.refuseSenders,
      retryAfterSeconds: s.retryAfterSeconds,
    };
  }

  /**
   * A fixed window that opens with the first call after the previous one ended, so that the calls
   * a test makes together fall in one window wherever the wall clock's second turns. Every call
   * counts, refused ones too.
   */
  private overRateLimit(): boolean {
    const limit = this.settings.maxCallsPerSecond;
    if (limit === null) return false;
    const now = this.now();
    if (now - this.window.startedAt >= WINDOW_MS) this.window = { startedAt: now, calls: 0 };
    this.window.calls += 1;
    return this.window.calls > limit;
  }

  private closeWindow(): void {
    this.window = { startedAt: Number.NEGATIVE_INFINITY, calls: 0 };
  }
}

function strongest(applies: Record<Exclude<FaultAction, 'none'>, boolean>): FaultAction {
  if (applies.hang) return 'hang';
  if (applies.reset) return 'reset';
  if (applies.throttle) return 'throttle';
  return applies.fail ? 'fail' : 'none';
}
