import { ConfigError } from '@notify/shared/platform';
import { describe, expect, it } from 'vitest';
import { loadConfig, SANDBOX_DEFAULTS, SENDGRID_SANDBOX_DEFAULTS } from '../../src/config.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../../src/domain/clock-skew.js';

describe('handler config', () => {
  it('When nothing is set, then defaults apply and the local sandbox is the provider', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3001,
      PREFETCH: 500,
      MAILJET_MAX_CONCURRENT_CALLS: 16,
      WRITE_BATCHES_IN_FLIGHT: 2,
      usesSandbox: true,
      mailjet: { apiUrl: SANDBOX_DEFAULTS.url, apiKey: SANDBOX_DEFAULTS.apiKey },
      retryPolicy: { maxRetries: 3, delay: { kind: 'fixed', delayMs: 2_000 } },
    });
  });

  it('When a Mailjet key is set, then the real API is the default URL', () => {
    const config = loadConfig({ MAILJET_API_KEY: 'k', MAILJET_API_SECRET: 's' });
    expect(config).toMatchObject({ usesSandbox: false, mailjet: { apiUrl: 'https://api.mailjet.com' } });
  });

  it('When values are wrong, then one line per problem names each variable', () => {
    const attempt = () =>
      loadConfig({ PORT: 'abc', RETRY_MAX_RETRIES: '-1', MAILJET_API_KEY: 'only-key', MAIL_FROM_EMAIL: 'nope' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems.map((line) => line.split(':')[0])).toEqual(
        expect.arrayContaining(['PORT', 'RETRY_MAX_RETRIES', 'MAIL_FROM_EMAIL']),
      );
    }
  });

  it('When nothing is set, then retention and maintenance take their documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      NOTIFICATION_RETENTION_DAYS: 90,
      PERSONAL_DATA_RETENTION_DAYS: 30,
      DEAD_LETTER_MAX_MESSAGES: 100_000,
      MAINTENANCE_INTERVAL_MS: 60_000,
      MAINTENANCE_BATCH_SIZE: 1_000,
      MAINTENANCE_VACUUM_THRESHOLD_ROWS: 1_000,
    });
  });

  it('When personal data would be kept longer than the notifications, then the start is refused naming it', () => {
    expect(() => loadConfig({ NOTIFICATION_RETENTION_DAYS: '10', PERSONAL_DATA_RETENTION_DAYS: '20' })).toThrow(
      /PERSONAL_DATA_RETENTION_DAYS/,
    );
  });

  it('When only one of the Mailjet key and secret is set, then the start is refused', () => {
    expect(() => loadConfig({ MAILJET_API_KEY: 'k' })).toThrow(/MAILJET_API_SECRET/);
  });

  it('When a duration is longer than a timer can wait, or the stop bound is under a second, then the start is refused naming it', () => {
    // A Node timer given more than 2^31-1 ms fires after 1 ms: a stop bound meant as "forever" would
    // have forced every stop at once.
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '3000000000' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '0' })).toThrow(/SHUTDOWN_TIMEOUT_MS/);
    expect(() => loadConfig({ LEASE_POLL_MS: '2147483648' })).toThrow(/LEASE_POLL_MS/);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_MS: '2147483647' }).SHUTDOWN_TIMEOUT_MS).toBe(2_147_483_647);
  });

  it('When the deadline is set, then the consumer timeout asked of the broker outlasts it by the clock skew allowed (an occurredAt ahead of our clock) and two leases, within what a timer takes', () => {
    const config = loadConfig({ NOTIFICATION_DEADLINE_MS: '3600000' });
    expect(config.consumerTimeoutMs).toBe(3_600_000 + 5 * 60_000 + 2 * config.leaseMs);
    expect(loadConfig({}).consumerTimeoutMs).toBeGreaterThan(86_400_000);
    expect(loadConfig({ NOTIFICATION_DEADLINE_MS: String(7 * 86_400_000) }).consumerTimeoutMs).toBeLessThanOrEqual(
      2_147_483_647,
    );
  });

  it('When RETRY_DELAY_MS is "0", then it means zero, not the default', () => {
    expect(loadConfig({ RETRY_DELAY_MS: '0' }).retryPolicy.delay).toEqual({ kind: 'fixed', delayMs: 0 });
  });

  it('When HOST is not loopback and no OPERATOR_TOKEN is set, then the start is refused naming both', () => {
    for (const HOST of ['0.0.0.0', '::', '10.1.2.3', 'handler.internal']) {
      expect(() => loadConfig({ HOST })).toThrow(
        /OPERATOR_TOKEN: must be set when HOST \(.+\) is not a loopback address/,
      );
    }
  });

  it('When HOST is loopback, then no OPERATOR_TOKEN is needed; any HOST works with one', () => {
    for (const HOST of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) {
      expect(loadConfig({ HOST }).OPERATOR_TOKEN).toBeUndefined();
    }
    expect(loadConfig({ HOST: '0.0.0.0', OPERATOR_TOKEN: 'a'.repeat(16) }).OPERATOR_TOKEN).toBe('a'.repeat(16));
  });

  it('When OPERATOR_TOKEN is short or holds a space, then the start is refused', () => {
    expect(() => loadConfig({ OPERATOR_TOKEN: 'short' })).toThrow(/OPERATOR_TOKEN: must be 16 to 200/);
    expect(() => loadConfig({ OPERATOR_TOKEN: 'with a space in it' })).toThrow(/OPERATOR_TOKEN/);
  });
});

describe('handler config: email providers', () => {
  it('When EMAIL_PROVIDERS is unset, then Mailjet alone, and SendGrid would go to the sandbox', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      providers: ['mailjet'],
      sendgridUsesSandbox: true,
      sendgrid: { apiUrl: SENDGRID_SANDBOX_DEFAULTS.url, apiKey: SENDGRID_SANDBOX_DEFAULTS.apiKey, timeoutMs: 10_000 },
      maxCallsPerSecond: { mailjet: 50, sendgrid: 1_000 },
    });
  });

  it('When EMAIL_PROVIDERS lists both, then in that order, whatever the case and spaces', () => {
    expect(loadConfig({ EMAIL_PROVIDERS: ' SendGrid , mailjet' }).providers).toEqual(['sendgrid', 'mailjet']);
  });

  it.each(['mailjet,postmark', 'mailjet,mailjet', ','])(
    'When EMAIL_PROVIDERS is "%s", then the start is refused naming it',
    (value) => {
      expect(() => loadConfig({ EMAIL_PROVIDERS: value })).toThrow(/EMAIL_PROVIDERS/);
    },
  );

  it('When a SendGrid key is set, then the real API is the default URL', () => {
    const config = loadConfig({ SENDGRID_API_KEY: 'SG.k' });
    expect(config).toMatchObject({
      sendgridUsesSandbox: false,
      sendgrid: { apiUrl: 'https://api.sendgrid.com', apiKey: 'SG.k' },
    });
  });

  it('When the send deadline reaches past the personal data retention less the clock skew allowed, then the start fails naming the deadline', () => {
    // The retention check counts from occurredAt less the skew: a message is closed that much earlier.
    const withDeadline = (ms: number) => () =>
      loadConfig({ NOTIFICATION_DEADLINE_MS: String(ms), PERSONAL_DATA_RETENTION_DAYS: '2' });
    const retentionLessSkew = 2 * 86_400_000 - CLOCK_SKEW_ALLOWANCE_MS;

    expect(withDeadline(2 * 86_400_000)).toThrow(
      /NOTIFICATION_DEADLINE_MS: must be shorter than PERSONAL_DATA_RETENTION_DAYS less the 5 min of clock skew allowed/,
    );
    expect(withDeadline(retentionLessSkew)).toThrow(/NOTIFICATION_DEADLINE_MS/);
    expect(withDeadline(retentionLessSkew - 1)).not.toThrow();
  });

  it('When SHUTDOWN_TIMEOUT_MS leaves the drain less than a provider call, then the start fails naming it', () => {
    // The drain is 80 %: 12,800 ms of 16,000 covers a 12,000 ms call and its 250 ms margin; 15,000 does not.
    const env = { MAILJET_TIMEOUT_MS: '1000', SENDGRID_TIMEOUT_MS: '12000', EMAIL_PROVIDERS: 'mailjet,sendgrid' };

    expect(() => loadConfig({ ...env, SHUTDOWN_TIMEOUT_MS: '15000' })).toThrow(
      /SHUTDOWN_TIMEOUT_MS: must leave a provider call its timeout/,
    );
    expect(() => loadConfig({ ...env, SHUTDOWN_TIMEOUT_MS: '16000' })).not.toThrow();
    // A provider not in use does not count.
    expect(() => loadConfig({ ...env, EMAIL_PROVIDERS: 'mailjet', SHUTDOWN_TIMEOUT_MS: '2000' })).not.toThrow();
  });

  it('When a provider in use has the longer timeout, then the lease covers its calls', () => {
    const env = {
      MAILJET_TIMEOUT_MS: '1000',
      SENDGRID_TIMEOUT_MS: '20000',
      RETRY_MAX_RETRIES: '3',
      RETRY_DELAY_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '30000',
    };
    expect(loadConfig(env).leaseMs).toBe(4 * 1_000 + 3 * 1_000 + 5_000);
    expect(loadConfig({ ...env, EMAIL_PROVIDERS: 'mailjet,sendgrid' }).leaseMs).toBe(4 * 20_000 + 3 * 1_000 + 5_000);
  });

  it.each(['0', '1', '2', '3'])(
    'When RETRY_MAX_RETRIES is %s, then a call made after the longest throttle wait still ends within the lease',
    (retries) => {
      const config = loadConfig({ RETRY_MAX_RETRIES: retries });
      const { leaseMs } = config;
      // Renewed before a call once a quarter of the lease has passed; abandoned 250 ms past its timeout.
      const latestEnd = leaseMs / 4 + config.providerGuard.maxThrottlePauseMs + config.mailjet.timeoutMs + 250;
      expect(latestEnd).toBeLessThanOrEqual(leaseMs);
    },
  );

  it('When TICKETING_METRICS_URL holds a user or password, then the start is refused naming it, without the password', () => {
    const refusal = () => loadConfig({ TICKETING_METRICS_URL: 'http://scraper:s3cret@127.0.0.1:3000/metrics' });

    expect(refusal).toThrow(/TICKETING_METRICS_URL: must not hold a user or password/);
    expect(refusal).not.toThrow(/s3cret/);
    expect(loadConfig({ TICKETING_METRICS_URL: 'http://127.0.0.1:3000/metrics' }).TICKETING_METRICS_URL).toBe(
      'http://127.0.0.1:3000/metrics',
    );
  });

  it('When TRUST_PROXY is a hop count or a list of proxies, then it is read as such; unset, no proxy is trusted', () => {
    expect(loadConfig({}).TRUST_PROXY).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).TRUST_PROXY).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::1',
    ]);
  });

  it.each(['true', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/8', '0.0.0.0/0', '::/0'])(
    'When TRUST_PROXY is "%s", then the start is refused naming it',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(new RegExp(`TRUST_PROXY: .*not ${value}`));
    },
  );
});
