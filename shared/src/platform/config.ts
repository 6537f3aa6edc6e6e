import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

/** Parses the environment once, at start-up; one line per problem, each naming its variable. */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined>,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`));
}

/**
 * Env helpers. Unlike `Number(x) || fallback`, they reject "abc" and keep "0" as zero;
 * an empty variable counts as unset.
 */
export const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

export function envInt(fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^-?\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .optional()
      .default(fallback),
  );
}

/** The longest delay a Node timer takes: a longer one fires after 1 ms (with a warning) instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in milliseconds that a timer will wait for: at most MAX_TIMER_MS (about 24.8 days). */
export function envMs(fallback: number, { min = 0, max = MAX_TIMER_MS } = {}) {
  return envInt(fallback, { min, max: Math.min(max, MAX_TIMER_MS) });
}

export function envPort(fallback: number) {
  return envInt(fallback, { min: 0, max: 65_535 });
}

/**
 * A URL of one of `protocols` that starts with its scheme and `//`. The URL parser alone takes
 * `amqp:rabbit:5672` and `postgres:db/app` too, as URLs with no host: the clients would connect to
 * localhost (and take `rabbit:5672` for a vhost, `b/app` for a database) instead of refusing the start.
 */
function isUrlOf(value: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocols.includes(protocol) && value.slice(protocol.length, protocol.length + 2) === '//';
}

const urlOfMessage = (protocols: readonly string[]) =>
  `must be a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`;

export function envUrl(fallback: string, protocols: readonly string[]) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .refine((value) => isUrlOf(value, protocols), urlOfMessage(protocols))
      .optional()
      .default(fallback),
  );
}

/**
 * One URL, or several separated by commas (the nodes of one RabbitMQ cluster); each is checked on
 * its own, and a problem names its position (`AMQP_URL.1` is the second), never its text.
 */
export function envUrlList(fallback: string, protocols: readonly string[]) {
  const oneUrl = z.string().refine((value) => isUrlOf(value, protocols), urlOfMessage(protocols));
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .transform((value) => value.split(',').map((item) => item.trim()))
      .pipe(z.array(oneUrl).min(1))
      .optional()
      .default([fallback]),
  );
}

export function envString(fallback?: string) {
  const schema = z.preprocess(unsetIfEmpty, z.string().trim().min(1).optional());
  return fallback === undefined ? schema : schema.default(fallback);
}

/** A comma-separated list of whole numbers, such as `30000,120000`. */
export function envIntList(fallback: number[], { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^\d+(\s*,\s*\d+)*$/, 'must be whole numbers separated by commas')
      .transform((value) => value.split(',').map(Number))
      .pipe(z.array(z.number().int().min(min).max(max)).min(1))
      .optional()
      .default(fallback),
  );
}

export function envBoolean(fallback: boolean) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1')
      .optional()
      .default(fallback),
  );
}

export function envEnum<const Values extends readonly [string, ...string[]]>(values: Values, fallback: Values[number]) {
  return z.preprocess(unsetIfEmpty, z.enum(values).optional().default(fallback));
}

/** An IP address or a host name: no scheme, no port, no spaces. */
export function envHost(fallback: string) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.:-]+$/, 'must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0')
      .optional()
      .default(fallback),
  );
}

export const DEFAULT_HOST = '127.0.0.1';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every service shares, so that README, compose and code agree on one set of names. */
export const commonEnv = {
  /** One node, or every node of a cluster (comma-separated): the services move to another when one goes. */
  AMQP_URL: envUrlList('amqp://guest:guest@localhost:5672', ['amqp:', 'amqps:']),
  DATABASE_URL: envUrl('postgres://postgres@localhost:5432/postgres', ['postgres:', 'postgresql:']),
  LOG_LEVEL: envEnum(LOG_LEVELS, 'info'),
  LOG_FORMAT: envEnum(['json', 'pretty'], 'json'),
  /** Prefixes exchange and queue names, so that a benchmark or test can share a broker. */
  TOPOLOGY_PREFIX: z.preprocess(unsetIfEmpty, z.string().max(100).optional().default('')),
  SHUTDOWN_TIMEOUT_MS: envMs(15_000, { min: 1_000 }),
  /**
   * The interface the HTTP server listens on. Loopback by default: the APIs have no
   * authentication, so exposing them is a choice (0.0.0.0 inside a container), not an accident.
   */
  HOST: envHost(DEFAULT_HOST),
};
