import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Email, SendOutcome } from '../../src/domain/email-provider.js';
import { createCallRateLimiter } from '../../src/provider-guard/call-rate-limiter.js';
import { createCircuitBreaker } from '../../src/provider-guard/circuit-breaker.js';
import { guardEmailProvider } from '../../src/provider-guard/guarded-email-provider.js';
import { callResultOf, type ProviderCall } from '../../src/provider-guard/provider-call.js';

const sent: SendOutcome = { kind: 'sent', providerMessageId: '1', httpStatus: 200 };
const transient: SendOutcome = { kind: 'failed', transient: true, httpStatus: 503, reason: 'HTTP 503' };
const permanent: SendOutcome = { kind: 'failed', transient: false, httpStatus: 400, reason: 'mj-0013' };
const throttled: SendOutcome = { kind: 'failed', transient: true, httpStatus: 429, reason: 'HTTP 429' };

describe('provider call result', () => {
  it.each([
    ['every email sent', [sent, sent], 'sent'],
    ['one sent, one refused for good', [sent, permanent], 'sent'],
    ['none sent, one refused for good', [transient, permanent], 'failed_permanent'],
    ['every email failing transiently', [transient, transient], 'failed_transient'],
    ['a 429', [throttled, throttled], 'throttled'],
  ] as const)('When a call ends with %s, then its result is %s', (_kind, outcomes, result) => {
    expect(callResultOf(outcomes)).toBe(result);
  });
});

describe('provider guard reporting its calls', () => {
  const email = { customId: 'c' } as Email;

  function guardOver(outcome: SendOutcome) {
    const calls: ProviderCall[] = [];
    const breaker = createCircuitBreaker({ failuresToOpen: 1, probeIntervalMs: 60_000 });
    const guarded = guardEmailProvider(async (emails) => emails.map(() => outcome), {
      name: 'mailjet',
      breaker,
      limiter: createCallRateLimiter({ maxPerSecond: 10_000 }),
      throttlePauseMs: 0,
      maxThrottlePauseMs: 0,
      callTimeoutMs: 10_000,
      log: pino({ level: 'silent' }),
      onCall: (call) => calls.push(call),
    });
    return { guarded, calls };
  }

  it('When a call is made, then it is reported with its result, its emails and its duration', async () => {
    const { guarded, calls } = guardOver(sent);

    await guarded.send([email, email]);

    expect(calls).toEqual([{ provider: 'mailjet', result: 'sent', emails: 2, durationSeconds: expect.any(Number) }]);
  });

  it('When the breaker is open, then the refused call is reported as deferred, with no duration', async () => {
    const { guarded, calls } = guardOver(transient);

    await guarded.send([email]);
    const [outcome] = await guarded.send([email]);

    expect(outcome?.kind).toBe('deferred');
    expect(calls.map((call) => call.result)).toEqual(['failed_transient', 'deferred']);
    expect(calls[1]).not.toHaveProperty('durationSeconds');
  });
});
