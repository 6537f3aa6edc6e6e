import type { Logger } from '@notify/shared/platform';
import type { BreakerState, EmailProvider } from '../domain/email-provider.js';
import { createCallRateLimiter } from './call-rate-limiter.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import { guardEmailProvider } from './guarded-email-provider.js';
import type { ProviderCall } from './provider-call.js';

export type ProviderGuardSettings = {
  name: string;
  failuresToOpen: number;
  probeIntervalMs: number;
  maxCallsPerSecond: number;
  throttlePauseMs: number;
  /** The longest pause a 429's Retry-After gets (guardEmailProvider). */
  maxThrottlePauseMs: number;
  /** Bound on a whole call: the provider's timeout setting. */
  callTimeoutMs: number;
  log: Logger;
  /** Told of every call asked of the guard, made or deferred (metrics). */
  onCall?: (call: ProviderCall) => void;
  /**
   * Other providers take over while this breaker is open (failover): its opening does not pause
   * consumption by itself, and the log line says so.
   */
  failover?: boolean;
  /** The call shape above takes each call's rate slot before forming the call (Mailjet's batches). */
  pacedByCaller?: boolean;
};

/** A provider behind its own breaker and call-rate limit; each breaker change is one log line. */
export function guardProvider(provider: EmailProvider, settings: ProviderGuardSettings) {
  const { name, log } = settings;
  const breaker = createCircuitBreaker(settings);
  breaker.onChange((state, previous) => {
    const fields = { provider: name, state, previous, probeIntervalMs: settings.probeIntervalMs };
    if (state === 'open' && settings.failover) log.error(fields, 'provider breaker open: failing over, probing');
    else if (state === 'open') log.error(fields, 'provider breaker open: pausing consumption, probing');
    else if (state === 'closed' && settings.failover)
      log.info(fields, 'provider breaker closed: emails go to it again');
    else if (state === 'closed') log.info(fields, 'provider breaker closed: consumption resumes');
    else log.info(fields, 'provider breaker half-open: probing with a pending email');
  });
  const guarded = guardEmailProvider((emails) => provider.send(emails), {
    name,
    breaker,
    limiter: createCallRateLimiter({
      maxPerSecond: settings.maxCallsPerSecond,
      maxPauseWaitMs: settings.maxThrottlePauseMs,
    }),
    throttlePauseMs: settings.throttlePauseMs,
    maxThrottlePauseMs: settings.maxThrottlePauseMs,
    callTimeoutMs: settings.callTimeoutMs,
    log,
    onCall: settings.onCall,
    pacedByCaller: settings.pacedByCaller,
  });
  return {
    ...guarded,
    onBreakerChange: (listener: (state: BreakerState) => void) => breaker.onChange(listener),
  };
}
