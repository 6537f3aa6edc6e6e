import type { SendOutcome } from '../domain/email-provider.js';

/**
 * How one provider call went as a whole, for metrics. A call carries up to 50 emails whose
 * outcomes may differ; the call's result is the first that holds:
 * - `deferred`: not made, the breaker was open;
 * - `throttled`: the provider answered 429;
 * - `sent`: the provider accepted at least one of its emails;
 * - `failed_permanent`: it accepted none and refused at least one for good (a 4xx other than 429);
 * - `failed_transient`: it accepted none, and every failure may pass (no answer, timeout, 5xx).
 */
export const PROVIDER_CALL_RESULTS = ['sent', 'failed_transient', 'failed_permanent', 'throttled', 'deferred'] as const;
export type ProviderCallResult = (typeof PROVIDER_CALL_RESULTS)[number];

/** One call asked of the provider guard; `durationSeconds` is the call itself, for calls made. */
export type ProviderCall = {
  provider: string;
  result: ProviderCallResult;
  emails: number;
  durationSeconds?: number;
};

export function callResultOf(outcomes: readonly SendOutcome[]): ProviderCallResult {
  if (outcomes.some((outcome) => outcome.kind === 'failed' && outcome.httpStatus === 429)) return 'throttled';
  if (outcomes.some((outcome) => outcome.kind === 'sent')) return 'sent';
  if (outcomes.some((outcome) => outcome.kind === 'failed' && !outcome.transient)) return 'failed_permanent';
  return 'failed_transient';
}
