import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import type { NotificationStore } from '../../src/db/notification-store.js';
import type { Email, GuardedEmailProvider, SendOutcome } from '../../src/domain/email-provider.js';
import { sendWithRetries } from '../../src/domain/send-with-retries.js';

const email = { customId: '01a234a9-b407-7191-bbea-c4e1eae2abc1' } as Email;

/** A provider whose breaker is open and lets calls go after `openMs`; it counts the calls made. */
function providerOpenFor(openMs: number) {
  let calls = 0;
  const opensUntil = Date.now() + openMs;
  const provider: GuardedEmailProvider = {
    breakerState: () => (Date.now() < opensUntil ? 'open' : 'closed'),
    whenCallable: () => new Promise((resolve) => setTimeout(resolve, Math.max(0, opensUntil - Date.now()))),
    send: async (emails) => {
      calls += 1;
      return emails.map((): SendOutcome => ({ kind: 'sent', providerMessageId: '1', httpStatus: 200 }));
    },
  };
  return { provider, calls: () => calls };
}

function storeWhoseRenewal(held: boolean) {
  const renewals: string[] = [];
  const store = {
    renewLease: async (_trackingId: string, claimToken: string) => {
      renewals.push(claimToken);
      return held;
    },
    settle: async () => undefined,
    // A renewal once 500 ms passed since the lease was last extended.
    leaseMs: 2_000,
  } as unknown as NotificationStore;
  return { store, renewals };
}

function deps(store: NotificationStore, provider: GuardedEmailProvider) {
  const logs = captureLogs();
  return {
    logs,
    deps: {
      store,
      provider,
      retryPolicy: { maxRetries: 3, delay: { kind: 'fixed' as const, delayMs: 0 } },
      previousAttempts: 0,
      claimToken: 'token-of-this-delivery',
      deadlineAt: new Date(Date.now() + 60_000),
      log: logs.log,
    },
  };
}

describe('sendWithRetries after a long wait for the breaker', () => {
  it('When another delivery took the row over during the wait, then nothing is sent and the delivery is interrupted', async () => {
    const { provider, calls } = providerOpenFor(1_200);
    const { store, renewals } = storeWhoseRenewal(false);
    const { deps: immediate, logs } = deps(store, provider);

    const result = await sendWithRetries(email, immediate, new AbortController().signal);

    expect(result).toEqual({ kind: 'interrupted', attempts: 0 });
    expect(calls()).toBe(0);
    expect(renewals).toEqual(['token-of-this-delivery']);
    expect(
      logs.find('another delivery took the row over while this one waited for the provider; not sending'),
    ).toHaveLength(1);
  });

  it('When the claim still holds after the wait, then its lease is renewed and the email is sent', async () => {
    const { provider, calls } = providerOpenFor(1_200);
    const { store, renewals } = storeWhoseRenewal(true);

    const result = await sendWithRetries(email, deps(store, provider).deps, new AbortController().signal);

    expect(result).toMatchObject({ kind: 'sent', attempts: 1 });
    expect(calls()).toBe(1);
    expect(renewals).toHaveLength(1);
  });
});

describe('sendWithRetries while the breaker refuses call after call', () => {
  it('When its short waits add up to a quarter of the lease, then the lease is renewed before the next call', async () => {
    let refusals = 0;
    const provider: GuardedEmailProvider = {
      breakerState: () => 'half_open',
      // Each wait is short: the probe slot went to another delivery, again and again.
      whenCallable: () => new Promise((resolve) => setTimeout(resolve, 50)),
      send: async (emails) => {
        refusals += 1;
        if (refusals <= 15) return emails.map((): SendOutcome => ({ kind: 'deferred', reason: 'breaker open' }));
        return emails.map((): SendOutcome => ({ kind: 'sent', providerMessageId: '1', httpStatus: 200 }));
      },
    };
    const { store, renewals } = storeWhoseRenewal(true);

    const result = await sendWithRetries(email, deps(store, provider).deps, new AbortController().signal);

    expect(result).toMatchObject({ kind: 'sent', attempts: 1 });
    // 15 waits of 50 ms or more: past the 500 ms after which the lease is renewed.
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    expect(new Set(renewals)).toEqual(new Set(['token-of-this-delivery']));
  });
});
