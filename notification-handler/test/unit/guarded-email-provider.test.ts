import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import type { Email, SendOutcome } from '../../src/domain/email-provider.js';
import { createCallRateLimiter } from '../../src/provider-guard/call-rate-limiter.js';
import { createCircuitBreaker } from '../../src/provider-guard/circuit-breaker.js';
import { guardEmailProvider } from '../../src/provider-guard/guarded-email-provider.js';

const email = { customId: 'id' } as Email;
const down: SendOutcome = { kind: 'failed', transient: true, httpStatus: 503, reason: 'HTTP 503' };
const throttled: SendOutcome = {
  kind: 'failed',
  transient: true,
  httpStatus: 429,
  reason: 'HTTP 429',
  retryAfterMs: 5_000,
};
const sent: SendOutcome = { kind: 'sent', providerMessageId: '1', httpStatus: 200 };

/** The guard over a provider that gives `answers` in turn, each `answerAfterMs` after the call. */
function guarded(answers: SendOutcome[], { answerAfterMs = 0, callTimeoutMs = 10_000 } = {}) {
  let now = 0;
  const breaker = createCircuitBreaker({ failuresToOpen: 2, probeIntervalMs: 1_000, now: () => now });
  const pauses: number[] = [];
  const limiter = { ...createCallRateLimiter({ maxPerSecond: 1_000 }), pauseFor: (ms: number) => pauses.push(ms) };
  const logs = captureLogs();
  let calls = 0;
  const provider = guardEmailProvider(
    async (emails) => {
      const answer = emails.map(() => answers[calls++] ?? sent);
      if (answerAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, answerAfterMs));
      return answer;
    },
    {
      name: 'mailjet',
      breaker,
      limiter,
      throttlePauseMs: 250,
      maxThrottlePauseMs: 20_000,
      callTimeoutMs,
      log: logs.log,
    },
  );
  return { provider, breaker, pauses, logs, calls: () => calls, advance: (ms: number) => (now += ms) };
}

describe('guarded email provider', () => {
  it('When calls fail until the breaker opens, then further calls are deferred without reaching the provider', async () => {
    const { provider, calls } = guarded([down, down]);
    await provider.send([email]);
    await provider.send([email]);

    const [outcome] = await provider.send([email]);

    expect(outcome).toEqual({ kind: 'deferred', reason: 'mailjet breaker open' });
    expect(calls()).toBe(2);
    expect(provider.breakerState()).toBe('open');
  });

  it('When the provider has not answered a call by its timeout, then its emails fail transiently at once, and a late answer is logged, never used', async () => {
    const { provider, logs } = guarded([sent], { answerAfterMs: 600, callTimeoutMs: 20 });

    const [outcome] = await provider.send([email]);
    const late = await logs.waitFor('provider answered a call abandoned at its timeout: its emails may be sent twice');

    expect(outcome).toEqual({
      kind: 'failed',
      transient: true,
      errorCode: 'ETIMEDOUT',
      reason: 'no whole answer within 20 ms',
      provider: 'mailjet',
    });
    expect(late).toMatchObject({ provider: 'mailjet', emails: 1, timeoutMs: 20 });
  });

  it('When the probe fails, then its outcome costs no retry; when a probe succeeds, then the breaker closes', async () => {
    const { provider, advance } = guarded([down, down, down, sent]);
    await provider.send([email]);
    await provider.send([email]);
    advance(1_000);

    const [failedProbe] = await provider.send([email]);
    advance(1_000);
    const [goodProbe] = await provider.send([email]);

    expect(failedProbe).toMatchObject({ kind: 'failed', spendsRetry: false });
    expect(goodProbe).toMatchObject({ kind: 'sent' });
    expect(provider.breakerState()).toBe('closed');
  });

  it("When the provider's adapter throws during a probe, then its emails fail transiently and the breaker opens again rather than staying half-open", async () => {
    let now = 0;
    const breaker = createCircuitBreaker({ failuresToOpen: 1, probeIntervalMs: 1_000, now: () => now });
    let throwing = true;
    const provider = guardEmailProvider(
      async () => {
        if (throwing) throw new TypeError('error.ErrorRelatedTo.join is not a function (ada@example.com)');
        return [sent];
      },
      {
        name: 'mailjet',
        breaker,
        limiter: createCallRateLimiter({ maxPerSecond: 1_000 }),
        throttlePauseMs: 250,
        maxThrottlePauseMs: 20_000,
        callTimeoutMs: 10_000,
        log: captureLogs().log,
      },
    );
    await provider.send([email]);
    now += 1_000;

    const [probe] = await provider.send([email]);
    const stateAfterProbe = provider.breakerState();
    throwing = false;
    now += 1_000;
    const [nextProbe] = await provider.send([email]);

    expect(probe).toMatchObject({ kind: 'failed', transient: true, errorCode: 'adapter_error', provider: 'mailjet' });
    expect(probe).toHaveProperty('reason', expect.not.stringContaining('ada@example.com'));
    expect(stateAfterProbe).toBe('open');
    expect(nextProbe).toMatchObject({ kind: 'sent' });
    expect(provider.breakerState()).toBe('closed');
  });

  it('When the provider throttles, then calls pause for its Retry-After (or the default), the email spends no retry, and the breaker does not count it', async () => {
    const { provider, pauses } = guarded([throttled, { ...throttled, retryAfterMs: undefined }, throttled]);

    const outcomes = [await provider.send([email]), await provider.send([email]), await provider.send([email])].flat();

    expect(outcomes.every((outcome) => outcome.kind === 'failed' && outcome.spendsRetry === false)).toBe(true);
    expect(pauses).toEqual([5_000, 250, 5_000]);
    expect(provider.breakerState()).toBe('closed');
  });

  it('When a 429 asks for no pause or less than the default (Retry-After: 0, a date already past), then calls pause the default', async () => {
    const { provider, pauses } = guarded([
      { ...throttled, retryAfterMs: 0 },
      { ...throttled, retryAfterMs: 100 },
    ]);

    await provider.send([email]);
    await provider.send([email]);

    expect(pauses).toEqual([250, 250]);
  });

  it('When a 503 says when to come back (Retry-After), then calls pause that long, up to the longest allowed, and the email still spends its retry', async () => {
    const timed = guarded([{ ...down, retryAfterMs: 3_000 }, down]);
    const long = guarded([{ ...down, retryAfterMs: 3_600_000 }]);

    const outcomes = [await timed.provider.send([email]), await timed.provider.send([email])].flat();
    await long.provider.send([email]);

    // The plain 503 after it asks for nothing, and gets no pause.
    expect(timed.pauses).toEqual([3_000]);
    expect(long.pauses).toEqual([20_000]);
    expect(outcomes.every((outcome) => outcome.kind === 'failed' && outcome.spendsRetry === undefined)).toBe(true);
  });

  it('When a 429 asks for a pause longer than the longest allowed, then calls pause only that long', async () => {
    const { provider, pauses } = guarded([{ ...throttled, retryAfterMs: 3_600_000 }]);

    const [outcome] = await provider.send([email]);

    expect(outcome).toMatchObject({ kind: 'failed', httpStatus: 429, spendsRetry: false });
    expect(pauses).toEqual([20_000]);
  });

  it('When the provider refuses our credentials, then its breaker opens at once, the email spends no retry, and a good probe closes it', async () => {
    const misconfigured: SendOutcome = {
      kind: 'failed',
      transient: true,
      configurationError: true,
      httpStatus: 401,
      reason: 'HTTP 401',
    };
    const { provider, advance } = guarded([misconfigured, sent]);

    const [refused] = await provider.send([email]);
    const stateAfter401 = provider.breakerState();
    const [whileOpen] = await provider.send([email]);
    advance(1_000);
    const [probe] = await provider.send([email]);

    expect(refused).toMatchObject({ kind: 'failed', provider: 'mailjet', spendsRetry: false, httpStatus: 401 });
    expect(stateAfter401).toBe('open');
    expect(whileOpen).toMatchObject({ kind: 'deferred' });
    expect(probe).toMatchObject({ kind: 'sent', provider: 'mailjet' });
    expect(provider.breakerState()).toBe('closed');
  });

  it('When a call fails permanently, then its outcome names the provider and still spends a retry', async () => {
    const refused: SendOutcome = { kind: 'failed', transient: false, httpStatus: 400, reason: 'HTTP 400' };
    const { provider } = guarded([refused]);

    const [outcome] = await provider.send([email]);

    expect(outcome).toEqual({ ...refused, provider: 'mailjet' });
  });

  it.each([
    ['takes its own rate slot (SendGrid)', false],
    ['has its slot taken by the batcher (Mailjet)', true],
  ])(
    'When calls are stopped, then a guard that %s makes no call, and a call waiting out a 429 ends deferred at once',
    async (_shape, pacedByCaller) => {
      let calls = 0;
      const provider = guardEmailProvider(async (emails) => emails.map(() => (calls++ === 0 ? throttled : sent)), {
        name: 'sendgrid',
        breaker: createCircuitBreaker({ failuresToOpen: 2, probeIntervalMs: 1_000 }),
        limiter: createCallRateLimiter({ maxPerSecond: 1_000 }),
        throttlePauseMs: 250,
        maxThrottlePauseMs: 60_000,
        callTimeoutMs: 10_000,
        log: captureLogs().log,
        pacedByCaller,
      });
      await provider.send([email]);
      // The 429 paused calls for 5 s: this one waits for its slot.
      const waiting = pacedByCaller
        ? provider.takeCallSlot().then(() => provider.send([email]))
        : provider.send([email]);
      const stateBeforeStop = await Promise.race([
        waiting.then(() => 'settled'),
        new Promise((resolve) => setImmediate(() => resolve('waiting'))),
      ]);

      provider.stopCalls();

      expect(stateBeforeStop).toBe('waiting');
      expect(await waiting).toEqual([{ kind: 'deferred', reason: 'sendgrid: handler stopping' }]);
      expect(await provider.send([email])).toEqual([{ kind: 'deferred', reason: 'sendgrid: handler stopping' }]);
      expect(calls).toBe(1);
    },
  );
});
