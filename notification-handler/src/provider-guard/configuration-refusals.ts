import type { Logger } from '@notify/shared/platform';
import type { SendOutcome } from '../domain/email-provider.js';

/**
 * Logs, once per HTTP status, that a provider refused our configuration rather than an email (a
 * configuration error: a key refused, a sender not validated), naming the settings to check. Every
 * send fails the same way until someone changes them: once per kind is enough.
 */
export function configurationRefusalReporter(provider: string, hints: Record<number, string>, log: Logger) {
  const reported = new Set<number>();
  return (outcomes: readonly SendOutcome[]): void => {
    const refusal = outcomes.find((outcome) => outcome.kind === 'failed' && outcome.configurationError);
    const status = refusal?.kind === 'failed' ? refusal.httpStatus : undefined;
    if (status === undefined || reported.has(status)) return;
    reported.add(status);
    log.error(
      { statusCode: status, reason: refusal?.kind === 'failed' ? refusal.reason : undefined },
      hints[status] ?? `${provider} refused our account (HTTP ${status})`,
    );
  };
}
