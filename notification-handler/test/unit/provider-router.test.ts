import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import type { BreakerState, Email, GuardedEmailProvider, SendOutcome } from '../../src/domain/email-provider.js';
import { routeProviders } from '../../src/failover/provider-router.js';

const email = { customId: 'id' } as Email;

/** A provider whose breaker the test sets; while not closed it refuses calls, as a guard does. */
function fakeProvider(
  name: string,
  answer: SendOutcome = { kind: 'sent', providerMessageId: name, httpStatus: 202, provider: name },
) {
  let state: BreakerState = 'closed';
  const listeners: Array<(state: BreakerState) => void> = [];
  const calls: Email[] = [];
  let callable: () => void = () => undefined;
  const provider: GuardedEmailProvider = {
    async send(emails) {
      if (state !== 'closed') return emails.map(() => ({ kind: 'deferred', reason: `${name} breaker open` }));
      calls.push(...emails);
      return emails.map(() => answer);
    },
    whenCallable: (signal) =>
      new Promise<void>((resolve, reject) => {
        callable = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    breakerState: () => state,
  };
  return {
    routed: { name, provider, onBreakerChange: (listener: (s: BreakerState) => void) => listeners.push(listener) },
    calls,
    set(next: BreakerState) {
      state = next;
      for (const listener of listeners) listener(next);
    },
    becomeCallable: () => callable(),
  };
}

describe('provider router (failover)', () => {
  it('When the primary is closed, then it takes every email and the next is never called', async () => {
    const [primary, secondary] = [fakeProvider('mailjet'), fakeProvider('sendgrid')];
    const router = routeProviders([primary.routed, secondary.routed], captureLogs().log);

    const [outcome] = await router.send([email]);

    expect(outcome).toMatchObject({ kind: 'sent', provider: 'mailjet' });
    expect([primary.calls.length, secondary.calls.length]).toEqual([1, 0]);
  });

  it('When the primary’s breaker is open, then the next provider takes the email; when it closes, emails go back', async () => {
    const [primary, secondary] = [fakeProvider('mailjet'), fakeProvider('sendgrid')];
    const router = routeProviders([primary.routed, secondary.routed], captureLogs().log);

    primary.set('open');
    const [during] = await router.send([email]);
    primary.set('closed');
    const [after] = await router.send([email]);

    expect([during?.kind === 'sent' && during.provider, after?.kind === 'sent' && after.provider]).toEqual([
      'sendgrid',
      'mailjet',
    ]);
    expect(router.breakerState()).toBe('closed');
  });

  it('When a provider answers with a failure, then that is the email’s outcome: the next provider is not tried', async () => {
    const refused: SendOutcome = {
      kind: 'failed',
      transient: false,
      httpStatus: 400,
      reason: 'bad address',
      provider: 'mailjet',
    };
    const [primary, secondary] = [fakeProvider('mailjet', refused), fakeProvider('sendgrid')];
    const router = routeProviders([primary.routed, secondary.routed], captureLogs().log);

    const [outcome] = await router.send([email]);

    expect(outcome).toEqual(refused);
    expect(secondary.calls).toEqual([]);
  });

  it('When every breaker is open, then the email is deferred and availability says so once; one closing ends it', async () => {
    const [primary, secondary] = [fakeProvider('mailjet'), fakeProvider('sendgrid')];
    const logs = captureLogs();
    const router = routeProviders([primary.routed, secondary.routed], logs.log);
    const changes: boolean[] = [];
    router.onAvailabilityChange((everyOpen) => changes.push(everyOpen));

    primary.set('open');
    secondary.set('open');
    primary.set('half_open');
    const [outcome] = await router.send([email]);
    secondary.set('closed');

    expect(outcome).toEqual({ kind: 'deferred', reason: 'every provider breaker open' });
    expect(changes).toEqual([true, false]);
    expect(logs.find('every provider breaker open: pausing consumption, probing')).toHaveLength(1);
    expect(router.breakerStates()).toEqual({ mailjet: 'half_open', sendgrid: 'closed' });
  });

  it('When every breaker is open, then whenCallable resolves once any provider may take a call, and rejects on abort', async () => {
    const [primary, secondary] = [fakeProvider('mailjet'), fakeProvider('sendgrid')];
    const router = routeProviders([primary.routed, secondary.routed], captureLogs().log);
    primary.set('open');
    secondary.set('open');

    const waiting = router.whenCallable(new AbortController().signal);
    secondary.becomeCallable();
    const aborted = new AbortController();
    const abandoned = router.whenCallable(aborted.signal);
    aborted.abort(new Error('stopping'));

    await expect(waiting).resolves.toBeUndefined();
    await expect(abandoned).rejects.toThrow('stopping');
    expect(router.breakerState()).toBe('open');
  });
});
