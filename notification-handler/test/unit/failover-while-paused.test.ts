import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Email, EmailProvider, SendOutcome } from '../../src/domain/email-provider.js';
import { createEmailProviders } from '../../src/email-providers.js';

const email = {
  customId: '01a234a9-b407-7191-bbea-c4e1eae2abc1',
  from: { email: 'tickets@example.com', name: 'Ticketing' },
  to: { email: 'someone@example.com', name: 'Someone' },
  subject: 's',
  text: 't',
  html: 'h',
} as Email;

/** Mailjet in maintenance: every call answers 503 and asks us back in an hour. */
const mailjetInMaintenance: EmailProvider = {
  send: async (emails) =>
    emails.map(
      (): SendOutcome => ({
        kind: 'failed',
        transient: true,
        httpStatus: 503,
        reason: 'HTTP 503: maintenance',
        retryAfterMs: 3_600_000,
      }),
    ),
};

const sendgridUp: EmailProvider = {
  send: async (emails) => emails.map((): SendOutcome => ({ kind: 'sent', providerMessageId: 'sg-1', httpStatus: 202 })),
};

describe('failover while the primary is paused by its Retry-After', () => {
  it('When Mailjet’s breaker is open and its calls are paused, then the next provider takes an email at once rather than after the pause', async () => {
    const config = loadConfig({
      EMAIL_PROVIDERS: 'mailjet,sendgrid',
      PROVIDER_BREAKER_FAILURES: '1',
      PROVIDER_BREAKER_PROBE_MS: '600000',
    });
    const providers = createEmailProviders(config, {
      log: captureLogs().log,
      onCall: () => undefined,
      adapters: { mailjet: mailjetInMaintenance, sendgrid: sendgridUp },
    });
    try {
      // The 503 opens Mailjet's breaker and pauses its calls for up to half a lease.
      const [first] = await providers.send([email]);
      expect(first).toMatchObject({ kind: 'failed', provider: 'mailjet', httpStatus: 503 });
      expect(providers.breakerStates()).toMatchObject({ mailjet: 'open', sendgrid: 'closed' });
      expect(config.providerGuard.maxThrottlePauseMs).toBeGreaterThan(10_000);

      const startedAt = Date.now();
      const [second] = await providers.send([email]);

      expect(second).toMatchObject({ kind: 'sent', provider: 'sendgrid' });
      // Refused by an open breaker, an email has no call to pace: it must not wait for Mailjet's slot.
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    } finally {
      providers.stopCalls();
    }
  }, 60_000);
});
