import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_MAX_TALLIED } from './delivery-tally.js';
import { type FaultSettingsInput, faultSettingsSchema } from './fault-settings.js';
import { DEFAULT_MAX_STORED, DEFAULT_MAX_STORED_BYTES } from './message-store.js';
import {
  DEFAULT_API_KEY,
  DEFAULT_API_SECRET,
  DEFAULT_HOST,
  DEFAULT_SENDGRID_API_KEY,
  type SandboxOptions,
} from './start-sandbox.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
}

/** Each CLI flag sets the variable it names; flags win over the environment. */
const FLAG_TO_ENV = {
  port: 'PORT',
  host: 'HOST',
  'api-key': 'SANDBOX_API_KEY',
  'api-secret': 'SANDBOX_API_SECRET',
  'sendgrid-api-key': 'SANDBOX_SENDGRID_API_KEY',
  'max-stored': 'SANDBOX_MAX_STORED',
  'max-stored-bytes': 'SANDBOX_MAX_STORED_BYTES',
  'max-tallied': 'SANDBOX_MAX_TALLIED',
  'fail-next': 'SANDBOX_FAIL_NEXT',
  'fail-status': 'SANDBOX_FAIL_STATUS',
  'fail-rate': 'SANDBOX_FAIL_RATE',
  seed: 'SANDBOX_SEED',
  'latency-ms': 'SANDBOX_LATENCY_MS',
  'hang-next': 'SANDBOX_HANG_NEXT',
  'reset-next': 'SANDBOX_RESET_NEXT',
  'fail-recipients': 'SANDBOX_FAIL_RECIPIENTS',
  'refuse-senders': 'SANDBOX_REFUSE_SENDERS',
  'max-calls-per-second': 'SANDBOX_MAX_CALLS_PER_SECOND',
  'retry-after-seconds': 'SANDBOX_RETRY_AFTER_SECONDS',
} as const;

/** The fault each variable sets, so that a bad value is reported under the variable's name. */
const FAULT_ENV = {
  failNext: 'SANDBOX_FAIL_NEXT',
  status: 'SANDBOX_FAIL_STATUS',
  failRate: 'SANDBOX_FAIL_RATE',
  seed: 'SANDBOX_SEED',
  latencyMs: 'SANDBOX_LATENCY_MS',
  hangNext: 'SANDBOX_HANG_NEXT',
  resetNext: 'SANDBOX_RESET_NEXT',
  failRecipients: 'SANDBOX_FAIL_RECIPIENTS',
  refuseSenders: 'SANDBOX_REFUSE_SENDERS',
  maxCallsPerSecond: 'SANDBOX_MAX_CALLS_PER_SECOND',
  retryAfterSeconds: 'SANDBOX_RETRY_AFTER_SECONDS',
} as const;

// Unlike `Number(x) || fallback`, these reject "abc" and keep "0"; an empty variable counts as unset.
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const text = () => z.preprocess(unsetIfEmpty, z.string().trim().min(1).optional());
const decimal = (pattern: RegExp, what: string) =>
  z.preprocess(unsetIfEmpty, z.string().trim().regex(pattern, `must be ${what}`).transform(Number).optional());
const whole = () => decimal(/^\d+$/, 'a whole number');

const envSchema = z.object({
  PORT: whole().pipe(z.number().max(65_535).default(4010)),
  HOST: text().default(DEFAULT_HOST),
  SANDBOX_API_KEY: text(),
  SANDBOX_API_SECRET: text(),
  MAILJET_API_KEY: text(),
  MAILJET_API_SECRET: text(),
  SANDBOX_SENDGRID_API_KEY: text(),
  SANDBOX_MAX_STORED: whole().pipe(z.number().min(1).default(DEFAULT_MAX_STORED)),
  SANDBOX_MAX_STORED_BYTES: whole().pipe(
    z.number().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_STORED_BYTES),
  ),
  SANDBOX_MAX_TALLIED: whole().pipe(z.number().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_TALLIED)),
  ...Object.fromEntries(Object.values(FAULT_ENV).map((name) => [name, text()])),
});

/** Every variable the sandbox reads. */
export const SANDBOX_SETTING_NAMES = Object.keys(envSchema.shape);

/**
 * The credentials it accepts. docker compose leaves them at their defaults: the handler, given no
 * provider key, sends with those.
 */
export const SANDBOX_CREDENTIAL_NAMES = [
  'SANDBOX_API_KEY',
  'SANDBOX_API_SECRET',
  'MAILJET_API_KEY',
  'MAILJET_API_SECRET',
  'SANDBOX_SENDGRID_API_KEY',
] as const satisfies ReadonlyArray<keyof typeof envSchema.shape>;

export type SandboxConfig = { options: SandboxOptions; credentialsSource: string };

/** Reads the environment and the command line once, at start; throws one line per problem. */
export function loadConfig(env: Record<string, string | undefined>, argv: string[]): SandboxConfig {
  const merged = { ...env, ...flagsAsEnv(argv) };
  const result = envSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const vars = result.data as z.infer<typeof envSchema> & Record<string, string | undefined>;
  const credentials = pickCredentials(vars);
  return {
    credentialsSource: credentials.source,
    options: {
      port: vars.PORT,
      host: vars.HOST,
      apiKey: credentials.apiKey,
      apiSecret: credentials.apiSecret,
      sendgridApiKey: vars.SANDBOX_SENDGRID_API_KEY ?? DEFAULT_SENDGRID_API_KEY,
      maxStored: vars.SANDBOX_MAX_STORED,
      maxStoredBytes: vars.SANDBOX_MAX_STORED_BYTES,
      maxTallied: vars.SANDBOX_MAX_TALLIED,
      faults: parseFaults(vars),
    },
  };
}

function flagsAsEnv(argv: string[]): Record<string, string> {
  const options = Object.fromEntries(Object.keys(FLAG_TO_ENV).map((flag) => [flag, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return Object.fromEntries(
      Object.entries(values).map(([flag, value]) => [FLAG_TO_ENV[flag as keyof typeof FLAG_TO_ENV], String(value)]),
    );
  } catch (error) {
    const flags = Object.keys(FLAG_TO_ENV).map((flag) => `--${flag}`);
    throw new ConfigError([`${(error as Error).message} (known flags: ${flags.join(', ')})`]);
  }
}

function pickCredentials(vars: Record<string, string | undefined>) {
  for (const prefix of ['SANDBOX', 'MAILJET']) {
    const apiKey = vars[`${prefix}_API_KEY`];
    const apiSecret = vars[`${prefix}_API_SECRET`];
    if (apiKey === undefined && apiSecret === undefined) continue;
    if (apiKey === undefined || apiSecret === undefined) {
      throw new ConfigError([`${prefix}_API_KEY and ${prefix}_API_SECRET must be set together`]);
    }
    return { apiKey, apiSecret, source: `${prefix}_API_KEY / ${prefix}_API_SECRET` };
  }
  const source = `defaults (key "${DEFAULT_API_KEY}", secret "${DEFAULT_API_SECRET}")`;
  return { apiKey: DEFAULT_API_KEY, apiSecret: DEFAULT_API_SECRET, source };
}

function parseFaults(vars: Record<string, string | undefined>): FaultSettingsInput {
  const input: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(FAULT_ENV)) {
    const value = vars[name];
    if (value !== undefined) input[field] = DOMAIN_FAULTS.has(field) ? value : toNumber(value);
  }
  const result = faultSettingsSchema.safeParse(input);
  if (result.success) return input as FaultSettingsInput;
  throw new ConfigError(
    result.error.issues.map((issue) => `${FAULT_ENV[issue.path[0] as keyof typeof FAULT_ENV]}: ${issue.message}`),
  );
}

/** Faults that name a domain: their values stay text. */
const DOMAIN_FAULTS = new Set(['failRecipients', 'refuseSenders']);

/** "0.25" → 0.25; anything else stays a string, which the fault schema then rejects by name. */
const toNumber = (value: string): number | string => (/^\d+(\.\d+)?$/.test(value) ? Number(value) : value);
