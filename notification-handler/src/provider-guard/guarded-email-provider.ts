import { type Logger, scrubAddresses } from '@notify/shared/platform';
import type { Email, GuardedEmailProvider, SendOutcome } from '../domain/email-provider.js';
import { callWithin } from './call-deadline.js';
import type { CallRateLimiter } from './call-rate-limiter.js';
import type { CallResult, CircuitBreaker } from './circuit-breaker.js';
import { callResultOf, type ProviderCall } from './provider-call.js';

export type ProviderGuardDeps = {
  name: string;
  breaker: CircuitBreaker;
  limiter: CallRateLimiter;
  /** Pause after a 429 without Retry-After. */
  throttlePauseMs: number;
  /**
   * The longest pause a 429's Retry-After gets. Deliveries wait out the pause holding their rows'
   * leases, which nothing renews meanwhile: a longer wait would let another delivery take a row over
   * and send its email a second time. Past this, calls resume and a throttled one is tried again (a
   * 429 costs no retry).
   */
  maxThrottlePauseMs: number;
  /** Bound on a whole call (the provider's timeout setting): past it, its emails fail transiently. */
  callTimeoutMs: number;
  log: Logger;
  /** Told of every call asked of the guard, made or deferred (metrics). */
  onCall?: (call: ProviderCall) => void;
  /** The caller takes each call's slot (`takeCallSlot`) before it forms the call; send does not. */
  pacedByCaller?: boolean;
};

/**
 * How far past its timeout setting a call is abandoned. A call that got no answer at all ends by
 * the client's own timeout first, with the client's error; only an answer still trickling in is
 * cut here. Four calls' worth (a send and its three retries) stays well inside the lease's 5 s of
 * slack.
 */
export const CLIENT_TIMEOUT_FIRST_MS = 250;

/**
 * One provider behind its circuit breaker and call-rate limit. A call the breaker refuses is not
 * made (`deferred`: the caller waits for `whenCallable`, or another provider takes it). A 429 pauses
 * every call and, like a failed probe, costs no email a retry: neither says anything about the
 * email. A configuration error (credentials refused) opens the breaker at once and costs no retry
 * either. Every outcome of a call made names this provider. After `stopCalls` (the handler stops)
 * no call is made, and calls waiting for their rate slot end at once, deferred.
 */
export function guardEmailProvider(
  inner: GuardedEmailProvider['send'],
  deps: ProviderGuardDeps,
): GuardedEmailProvider & { takeCallSlot: () => Promise<void>; stopCalls: () => void } {
  const { breaker, limiter } = deps;
  const stopping = `${deps.name}: handler stopping`;
  return {
    async send(emails: readonly Email[]): Promise<SendOutcome[]> {
      if (limiter.isStopped()) return notMade(emails, stopping);
      const admission = breaker.admit();
      if (admission === 'refuse') return notMade(emails, `${deps.name} breaker open`);
      // A probe admitted here and not made leaves the breaker half-open: no call goes after a stop.
      if (!deps.pacedByCaller && !(await limiter.take())) return notMade(emails, stopping);
      // Timed after the rate limiter's wait: the provider's own latency.
      const startedAt = performance.now();
      const outcomes = await callWithin(
        answerOf(inner, emails, deps),
        deps.callTimeoutMs + CLIENT_TIMEOUT_FIRST_MS,
        () => emails.map(() => noAnswer(deps.callTimeoutMs)),
        () =>
          deps.log.warn(
            { provider: deps.name, emails: emails.length, timeoutMs: deps.callTimeoutMs },
            'provider answered a call abandoned at its timeout: its emails may be sent twice',
          ),
      );
      const durationSeconds = (performance.now() - startedAt) / 1_000;
      deps.onCall?.({ provider: deps.name, result: callResultOf(outcomes), emails: emails.length, durationSeconds });
      const throttled = outcomes.find((outcome) => outcome.kind === 'failed' && outcome.httpStatus === 429);
      const unavailable = outcomes.find((outcome) => outcome.kind === 'failed' && outcome.retryAfterMs !== undefined);
      if (throttled?.kind === 'failed') {
        const askedMs = throttled.retryAfterMs ?? deps.throttlePauseMs;
        // Never less than the default pause: a Retry-After of 0 (or a date already past) would have
        // every waiting delivery call again at once, each 429 costing no retry, until its deadline.
        const pauseMs = Math.min(Math.max(askedMs, deps.throttlePauseMs), deps.maxThrottlePauseMs);
        limiter.pauseFor(pauseMs);
        deps.log.warn({ provider: deps.name, pauseMs, askedMs }, 'provider throttled us (429): pausing calls');
      } else if (unavailable?.kind === 'failed' && unavailable.retryAfterMs !== undefined) {
        // A 503 (a provider in maintenance, a proxy in front) that says when to come back: the
        // retries wait for it rather than spend themselves RETRY_DELAY_MS apart. It still costs the
        // email its retry: unlike a 429, it may be about this call.
        const pauseMs = Math.min(unavailable.retryAfterMs, deps.maxThrottlePauseMs);
        limiter.pauseFor(pauseMs);
        deps.log.warn(
          { provider: deps.name, pauseMs, askedMs: unavailable.retryAfterMs, httpStatus: unavailable.httpStatus },
          'provider asked us to come back later (Retry-After): pausing calls',
        );
      }
      breaker.record(healthOf(outcomes), admission === 'probe');
      const misconfigured = outcomes.find((outcome) => outcome.kind === 'failed' && outcome.configurationError);
      if (misconfigured) breaker.trip();
      return outcomes.map((outcome) => {
        if (outcome.kind === 'sent') return { ...outcome, provider: deps.name };
        if (outcome.kind === 'deferred') return outcome;
        const free = outcome.httpStatus === 429 || admission === 'probe' || outcome.configurationError === true;
        return { ...outcome, provider: deps.name, ...(free ? { spendsRetry: false as const } : {}) };
      });
    },
    whenCallable: (signal) => breaker.whenCallable(signal),
    breakerState: () => breaker.state(),
    takeCallSlot: async () => {
      // A batch the breaker will refuse makes no call, so it takes no slot: with other providers to
      // fail over to, its emails would otherwise wait out this provider's pace, or a Retry-After
      // pause of up to half a lease, only to be refused and go to the next provider then.
      if (breaker.refuses()) return;
      await limiter.take();
    },
    stopCalls: () => limiter.stop(),
  };

  /**
   * Nothing sent and nothing tried: the caller waits for the breaker or another provider takes the
   * emails; once the handler stops, the retry loop, its delivery interrupted, gives the message back.
   */
  function notMade(emails: readonly Email[], reason: string): SendOutcome[] {
    deps.onCall?.({ provider: deps.name, result: 'deferred', emails: emails.length });
    return emails.map(() => ({ kind: 'deferred', reason }));
  }
}

/**
 * The adapters turn every answer and every client error into outcomes; should one throw all the
 * same (a body that breaks what its parser expects), the call still ends in outcomes. Without them
 * the breaker would never hear of the call: a probe's would leave it half-open, refusing every
 * call for good.
 */
async function answerOf(
  inner: GuardedEmailProvider['send'],
  emails: readonly Email[],
  { name, log }: Pick<ProviderGuardDeps, 'name' | 'log'>,
): Promise<SendOutcome[]> {
  try {
    return await inner(emails);
  } catch (error) {
    // A fault of ours, not the provider's: the stack says where.
    log.error(
      { err: error, provider: name, emails: emails.length },
      "provider's adapter threw: its emails fail transiently",
    );
    const reason = scrubAddresses(`the provider's adapter failed: ${(error as Error)?.message ?? String(error)}`);
    return emails.map(() => ({ kind: 'failed', transient: true, errorCode: 'adapter_error', reason }));
  }
}

function noAnswer(timeoutMs: number): SendOutcome {
  return { kind: 'failed', transient: true, errorCode: 'ETIMEDOUT', reason: `no whole answer within ${timeoutMs} ms` };
}

/** A call failed, for the breaker, when no email got an answer that shows the provider working. */
function healthOf(outcomes: readonly SendOutcome[]): CallResult {
  const down = outcomes.every(
    (outcome) => outcome.kind === 'failed' && outcome.transient && outcome.httpStatus !== 429,
  );
  return down ? 'failure' : 'success';
}
