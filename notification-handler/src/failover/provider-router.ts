import { EventEmitter } from 'node:events';
import type { Logger } from '@notify/shared/platform';
import type { BreakerState, Email, GuardedEmailProvider, SendOutcome } from '../domain/email-provider.js';

/** One provider as the router sees it: its guarded call path, and its breaker's changes. */
export type RoutedProvider = {
  name: string;
  provider: GuardedEmailProvider;
  onBreakerChange: (listener: (state: BreakerState) => void) => void;
};

export type ProviderRouter = ReturnType<typeof routeProviders>;

/**
 * Failover across providers, in the configured order (the first is the primary). Each email goes
 * to the first provider whose breaker takes the call: while the primary's breaker is open, its
 * guard refuses the email at once (nothing is sent, `deferred`) and the next provider takes it;
 * when the primary's probe is due, the next email is that probe, and once a probe succeeds its
 * breaker closes and emails go back to it. An email goes on to the next provider only when the
 * one before refused it without a call: a provider's answer, a failure included, is the email's
 * outcome. A permanent refusal is final (a bad address is bad everywhere); a transient failure is
 * retried by the use case, through the router again. The router sits above each provider's call
 * shape (Mailjet's batcher, SendGrid's one request per email), so a batch never spans providers.
 */
export function routeProviders(providers: readonly RoutedProvider[], log: Logger) {
  if (providers.length === 0) throw new Error('at least one email provider is needed');
  const events = new EventEmitter<{ availability: [everyOpen: boolean] }>();
  const everyBreakerOpen = () => providers.every(({ provider }) => provider.breakerState() !== 'closed');
  let everyOpen = false;
  for (const { onBreakerChange } of providers) {
    onBreakerChange(() => {
      const now = everyBreakerOpen();
      if (now === everyOpen) return;
      everyOpen = now;
      if (providers.length > 1) {
        if (now)
          log.error(
            { providers: providers.map(({ name }) => name) },
            'every provider breaker open: pausing consumption, probing',
          );
        else log.info({ breakers: breakerStates() }, 'a provider breaker closed: consumption resumes');
      }
      events.emit('availability', now);
    });
  }

  function breakerStates(): Record<string, BreakerState> {
    return Object.fromEntries(providers.map(({ name, provider }) => [name, provider.breakerState()]));
  }

  async function sendOne(email: Email): Promise<SendOutcome> {
    let refusal: SendOutcome | undefined;
    for (const { provider } of providers) {
      const [outcome] = await provider.send([email]);
      if (!outcome) throw new Error('email provider returned no outcome');
      if (outcome.kind !== 'deferred') return outcome;
      refusal = outcome;
    }
    return providers.length === 1
      ? (refusal as SendOutcome)
      : { kind: 'deferred', reason: 'every provider breaker open' };
  }

  return {
    names: providers.map(({ name }) => name),
    send: (emails: readonly Email[]) => Promise.all(emails.map(sendOne)),
    /** Closed while any provider's breaker is; half-open while a probe is out and none is closed. */
    breakerState(): BreakerState {
      const states = providers.map(({ provider }) => provider.breakerState());
      if (states.includes('closed')) return 'closed';
      return states.includes('half_open') ? 'half_open' : 'open';
    },
    breakerStates,
    /** Resolves when any provider may take a call; rejects when `signal` aborts. */
    async whenCallable(signal: AbortSignal): Promise<void> {
      signal.throwIfAborted();
      const done = new AbortController();
      const onAbort = () => done.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.any(providers.map(({ provider }) => provider.whenCallable(done.signal)));
      } catch (error) {
        signal.throwIfAborted();
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        done.abort();
      }
    },
    /** Told when "every breaker is open" starts or ends: consumption pauses exactly then. */
    onAvailabilityChange: (listener: (everyOpen: boolean) => void) => events.on('availability', listener),
  };
}
