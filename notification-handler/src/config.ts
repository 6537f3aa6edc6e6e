import { DEFAULT_REDELIVERY_DELAYS_MS, EmailSchema, singleLine } from '@notify/shared';
import {
  commonEnv,
  envEnum,
  envInt,
  envIntList,
  envMs,
  envPort,
  envString,
  MAX_TIMER_MS,
  maintenanceEnv,
  parseEnv,
  unsetIfEmpty,
} from '@notify/shared/platform';
import { z } from 'zod';
import { CLOCK_SKEW_ALLOWANCE_MS } from './domain/clock-skew.js';
import { operatorTokenSetting, requireTokenOffLoopback } from './operator-settings.js';
import { CLIENT_TIMEOUT_FIRST_MS } from './provider-guard/guarded-email-provider.js';
import { trustProxySetting } from './trust-proxy-setting.js';

/** Where the handler sends when no Mailjet key is set: the local sandbox and its own credentials. */
export const SANDBOX_DEFAULTS = { url: 'http://127.0.0.1:4010', apiKey: 'sandbox-key', apiSecret: 'sandbox-secret' };
/** The same sandbox's SendGrid endpoint, when no SendGrid key is set. */
export const SENDGRID_SANDBOX_DEFAULTS = { url: 'http://127.0.0.1:4010', apiKey: 'SG.sandbox-key' };

/** The providers EMAIL_PROVIDERS names, in the order they are tried: the first is the primary. */
export const PROVIDER_NAMES = ['mailjet', 'sendgrid'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

const providerList = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((value) => value.split(',').map((name) => name.trim().toLowerCase()))
    .pipe(
      z
        .array(z.enum(PROVIDER_NAMES, { message: `must name providers among ${PROVIDER_NAMES.join(', ')}` }))
        .min(1)
        .refine((names) => new Set(names).size === names.length, 'names a provider twice'),
    )
    .optional()
    .default(['mailjet']),
);

/** The share of SHUTDOWN_TIMEOUT_MS the consumer's drain gets; the rest is for closing connections. */
export const DRAIN_SHARE_OF_SHUTDOWN = 0.8;

/** How far past its timeout a provider call is abandoned. */
const CALL_ABANDON_MARGIN_MS = CLIENT_TIMEOUT_FIRST_MS;

const schema = z
  .object({
    ...commonEnv,
    PORT: envPort(3001),
    /**
     * Messages in flight at once. By Little's law a handler sends at most PREFETCH ÷ (time a
     * message is held) a second: a real provider answers in 100-300 ms, so 500 leave room for
     * 1,500/s at 300 ms. A message in flight holds a few KiB, so 500 hold a few MiB.
     */
    PREFETCH: envInt(500, { min: 1, max: 1_000 }),
    MAILJET_API_KEY: envString(),
    MAILJET_API_SECRET: envString(),
    MAILJET_API_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
    MAILJET_TIMEOUT_MS: envMs(10_000, { min: 1 }),
    /** Provider calls in flight at once; each carries up to 50 emails (16 × 50 at 300 ms: 2,600/s). */
    MAILJET_MAX_CONCURRENT_CALLS: envInt(16, { min: 1, max: 100 }),
    MAIL_FROM_EMAIL: z.preprocess(unsetIfEmpty, EmailSchema.default('tickets@example.com')),
    MAIL_FROM_NAME: z.preprocess(unsetIfEmpty, singleLine(100).default('Ticketing')),
    RETRY_MAX_RETRIES: envInt(3, { min: 0, max: 20 }),
    RETRY_DELAY_MS: envMs(2_000, { min: 0 }),
    RETRY_STRATEGY: envEnum(['fixed', 'exponential'], 'fixed'),
    RETRY_MAX_DELAY_MS: envMs(30_000, { min: 0 }),
    /** The delayed level: waits between deliveries once the immediate retries ran out; the last repeats. */
    REDELIVERY_DELAYS_MS: envIntList([...DEFAULT_REDELIVERY_DELAYS_MS], { min: 1_000, max: 86_400_000 }),
    /** After `occurredAt` (or a replay), a notification that still could not be sent is failed. */
    NOTIFICATION_DEADLINE_MS: envMs(86_400_000, { min: 1_000, max: 7 * 86_400_000 }),
    PROVIDER_BREAKER_FAILURES: envInt(5, { min: 1, max: 1_000 }),
    PROVIDER_BREAKER_PROBE_MS: envMs(5_000, { min: 100 }),
    /** Pause after a 429 that names no Retry-After. */
    PROVIDER_THROTTLE_PAUSE_MS: envMs(1_000, { min: 100 }),
    /** Mailjet's limits are per key and unpublished; a staff answer gave 500 calls per 10 s. */
    MAILJET_MAX_CALLS_PER_SECOND: envInt(50, { min: 1, max: 10_000 }),
    /** `mailjet`, `sendgrid`, or an ordered list such as `mailjet,sendgrid`: the next take over while the first is down. */
    EMAIL_PROVIDERS: providerList,
    SENDGRID_API_KEY: envString(),
    SENDGRID_API_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
    SENDGRID_TIMEOUT_MS: envMs(10_000, { min: 1 }),
    /**
     * SendGrid documents up to 10,000 mail/send requests a second (an older note said 3,000), one
     * email each here: 1,000 keeps several handlers well under either.
     */
    SENDGRID_MAX_CALLS_PER_SECOND: envInt(1_000, { min: 1, max: 10_000 }),
    /** How often a database found away is asked again. */
    DATABASE_PROBE_MS: envMs(1_000, { min: 50 }),
    /** A redelivered message waiting on another handler's lease looks at the row this often. */
    LEASE_POLL_MS: envMs(1_000, { min: 10 }),
    DATABASE_POOL_SIZE: envInt(20, { min: 2, max: 200 }),
    /**
     * Claim statements, and settlement statements, running at once: while fewer run, a delivery's
     * claim (or settlement) starts at once; those that come meanwhile go together in the next, up
     * to 100. Two, not four: the handler drained alone sent about a tenth more a second, in larger
     * statements that cost its PostgreSQL less per notification (docs/capacity.md).
     */
    WRITE_BATCHES_IN_FLIGHT: envInt(2, { min: 1, max: 64 }),
    /** How long a dead letter, a delayed retry or a replay waits for the broker's confirm. */
    PUBLISH_CONFIRM_TIMEOUT_MS: envMs(10_000, { min: 100 }),
    /** How often the work and dead-letter queue depths are read for /metrics. */
    QUEUE_SAMPLE_MS: envMs(5_000, { min: 100 }),
    /** Guards /notifications* and the operator page; unset is allowed on loopback only. */
    OPERATOR_TOKEN: operatorTokenSetting,
    /** Wrong operator tokens one client address may present per window before its tokens get 429. */
    OPERATOR_WRONG_TOKEN_LIMIT: envInt(10, { min: 1, max: 100_000 }),
    OPERATOR_WRONG_TOKEN_WINDOW_MS: envMs(15 * 60_000, { min: 1_000 }),
    /** Proxies whose X-Forwarded-For names the client (a hop count, or their addresses); unset: none. */
    TRUST_PROXY: trustProxySetting,
    /** The ticketing service's /metrics, for the operator page's outbox backlog; unset: "unknown". */
    TICKETING_METRICS_URL: z.preprocess(
      unsetIfEmpty,
      z
        .url({ protocol: /^https?$/ })
        // fetch refuses a URL with credentials, quoting it whole in its error: a reading that can
        // only fail, with the password in the reason the operator page shows.
        .refine((value) => {
          const { username, password } = new URL(value);
          return username === '' && password === '';
        }, 'must not hold a user or password (the ticketing /metrics takes none)')
        .optional(),
    ),
    ...maintenanceEnv,
    /** Final notifications (sent, failed) and their attempts are deleted this long after creation. */
    NOTIFICATION_RETENTION_DAYS: envInt(90, { min: 1, max: 36_500 }),
    /** Their recipient and stored request are erased earlier; the row keeps status and timestamps. */
    PERSONAL_DATA_RETENTION_DAYS: envInt(30, { min: 1, max: 36_500 }),
    /** Dead letters the dead-letter queue holds; past it, dead-lettering is refused (see the README). */
    DEAD_LETTER_MAX_MESSAGES: envInt(100_000, { min: 1, max: 100_000_000 }),
  })
  .refine((env) => env.PERSONAL_DATA_RETENTION_DAYS <= env.NOTIFICATION_RETENTION_DAYS, {
    path: ['PERSONAL_DATA_RETENTION_DAYS'],
    message: 'must not exceed NOTIFICATION_RETENTION_DAYS: rows are deleted by then',
  })
  // A message older than the personal data retention (less the clock skew allowed, counting from its
  // occurredAt) is dead-lettered unsent, and an unfinished row that old is closed as failed: retries
  // would stop there, before the deadline said, and say why wrongly.
  .refine(
    (env) => env.NOTIFICATION_DEADLINE_MS < env.PERSONAL_DATA_RETENTION_DAYS * 86_400_000 - CLOCK_SKEW_ALLOWANCE_MS,
    {
      path: ['NOTIFICATION_DEADLINE_MS'],
      message: `must be shorter than PERSONAL_DATA_RETENTION_DAYS less the ${CLOCK_SKEW_ALLOWANCE_MS / 60_000} min of clock skew allowed: older notifications are closed unsent`,
    },
  )
  // A call in flight when the handler stops must be able to end within the drain: cut off, its
  // message goes back to the queue while its row keeps its lease, and an email the provider took
  // is sent again once the lease runs out.
  .refine(
    (env) =>
      env.SHUTDOWN_TIMEOUT_MS * DRAIN_SHARE_OF_SHUTDOWN >=
      Math.max(
        ...env.EMAIL_PROVIDERS.map((name) => (name === 'mailjet' ? env.MAILJET_TIMEOUT_MS : env.SENDGRID_TIMEOUT_MS)),
      ) +
        CALL_ABANDON_MARGIN_MS,
    {
      path: ['SHUTDOWN_TIMEOUT_MS'],
      message: `must leave a provider call its timeout: ${DRAIN_SHARE_OF_SHUTDOWN * 100} % of it (the drain) at least the longest provider timeout + ${CALL_ABANDON_MARGIN_MS} ms`,
    },
  )
  .superRefine(requireTokenOffLoopback)
  .refine((env) => !env.MAILJET_API_KEY === !env.MAILJET_API_SECRET, {
    path: ['MAILJET_API_SECRET'],
    message: 'MAILJET_API_KEY and MAILJET_API_SECRET go together: set both or neither',
  });

/** Every variable the handler reads (docker compose passes each one through). */
export const HANDLER_SETTING_NAMES = Object.keys(schema.shape);

export type HandlerConfig = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined>) {
  const parsed = parseEnv(schema, env);
  const usesSandbox = !parsed.MAILJET_API_KEY;
  const mailjet = {
    apiKey: parsed.MAILJET_API_KEY ?? SANDBOX_DEFAULTS.apiKey,
    apiSecret: parsed.MAILJET_API_SECRET ?? SANDBOX_DEFAULTS.apiSecret,
    apiUrl: parsed.MAILJET_API_URL ?? (usesSandbox ? SANDBOX_DEFAULTS.url : 'https://api.mailjet.com'),
    timeoutMs: parsed.MAILJET_TIMEOUT_MS,
  };
  const sendgridUsesSandbox = !parsed.SENDGRID_API_KEY;
  const sendgrid = {
    apiKey: parsed.SENDGRID_API_KEY ?? SENDGRID_SANDBOX_DEFAULTS.apiKey,
    apiUrl:
      parsed.SENDGRID_API_URL ?? (sendgridUsesSandbox ? SENDGRID_SANDBOX_DEFAULTS.url : 'https://api.sendgrid.com'),
    timeoutMs: parsed.SENDGRID_TIMEOUT_MS,
  };
  const timeoutsMs: Record<ProviderName, number> = { mailjet: mailjet.timeoutMs, sendgrid: sendgrid.timeoutMs };
  const longestTimeout = Math.max(...parsed.EMAIL_PROVIDERS.map((name) => timeoutsMs[name]));
  const delay =
    parsed.RETRY_STRATEGY === 'fixed'
      ? ({ kind: 'fixed', delayMs: parsed.RETRY_DELAY_MS } as const)
      : ({ kind: 'exponential', baseMs: parsed.RETRY_DELAY_MS, capMs: parsed.RETRY_MAX_DELAY_MS } as const);
  const longestDelay = delay.kind === 'fixed' ? delay.delayMs : delay.capMs;
  // A claim must outlive the longest send it covers: every attempt timing out, every wait in full.
  // And a call made after the longest throttle wait (half a lease, see providerGuard), which may
  // start a quarter of a lease after the last renewal (send-with-retries.ts) and is abandoned 250 ms
  // past its timeout: a quarter, plus a half, plus that call, within the lease.
  const sendsMs = (parsed.RETRY_MAX_RETRIES + 1) * longestTimeout + parsed.RETRY_MAX_RETRIES * longestDelay + 5_000;
  const leaseMs = Math.max(sendsMs, 4 * (longestTimeout + CALL_ABANDON_MARGIN_MS) + 5_000);
  return {
    ...parsed,
    usesSandbox,
    mailjet,
    sendgridUsesSandbox,
    sendgrid,
    providers: parsed.EMAIL_PROVIDERS,
    from: { email: parsed.MAIL_FROM_EMAIL, name: parsed.MAIL_FROM_NAME },
    retryPolicy: { maxRetries: parsed.RETRY_MAX_RETRIES, delay },
    redelivery: { delaysMs: parsed.REDELIVERY_DELAYS_MS, deadlineMs: parsed.NOTIFICATION_DEADLINE_MS },
    providerGuard: {
      failuresToOpen: parsed.PROVIDER_BREAKER_FAILURES,
      probeIntervalMs: parsed.PROVIDER_BREAKER_PROBE_MS,
      throttlePauseMs: parsed.PROVIDER_THROTTLE_PAUSE_MS,
      // Half a lease: a delivery that waits out a pause still holds its row when its call goes.
      maxThrottlePauseMs: Math.floor(leaseMs / 2),
    },
    maxCallsPerSecond: {
      mailjet: parsed.MAILJET_MAX_CALLS_PER_SECOND,
      sendgrid: parsed.SENDGRID_MAX_CALLS_PER_SECOND,
    } satisfies Record<ProviderName, number>,
    leaseMs,
    // The broker takes back a delivery unacked this long (30 minutes by default) by closing the
    // channel: every message held then goes back to the queue and spends a delivery. A delivery
    // waits for an open breaker until its deadline, then settles within a lease; the deadline
    // counts from occurredAt, which may be up to the clock skew allowed ahead of our clock.
    consumerTimeoutMs: Math.min(parsed.NOTIFICATION_DEADLINE_MS + CLOCK_SKEW_ALLOWANCE_MS + 2 * leaseMs, MAX_TIMER_MS),
  };
}
