import { z } from 'zod';

/** 429 and 502-504 answer HTML, as Mailjet's rate limiter and proxies do; 500 answers Mailjet's JSON error. */
export const FAIL_STATUSES = [429, 500, 502, 503, 504] as const;
export type FailStatus = (typeof FAIL_STATUSES)[number];

const count = z.number().int().min(0).max(1_000_000_000);
const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const domain = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .transform((name) => name.replace(/^@/, ''))
    .pipe(z.string().regex(DOMAIN, 'must be a domain such as fail.example'))
    .nullable()
    .optional();

export const faultSettingsSchema = z.strictObject({
  /** The next N calls to /v3.1/send fail with `status`. */
  failNext: count.optional(),
  status: z.literal(FAIL_STATUSES).optional(),
  /** Each call fails with `status` with this probability, drawn from a PRNG seeded with `seed`. */
  failRate: z.number().min(0).max(1).optional(),
  seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  /** Added before every answer of /v3.1/send. */
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  /** The next N calls never get an answer: the socket stays open until the client gives up. */
  hangNext: count.optional(),
  /** The next N calls have their connection reset (TCP RST). */
  resetNext: count.optional(),
  /** Recipients in this domain (or its subdomains) get a per-message error; null clears it. */
  failRecipients: domain(),
  /**
   * Senders in this domain (or its subdomains) are not verified for the account: Mailjet answers 403
   * with a send-0008 entry per message, SendGrid a 403 for the request; null clears it.
   */
  refuseSenders: domain(),
  /** Calls beyond this many within the current one-second window answer a plain-text 429; null: no limit. */
  maxCallsPerSecond: z.number().int().min(0).max(1_000_000).nullable().optional(),
  /** The Retry-After header (whole seconds, as HTTP requires) on every 429 the sandbox answers; null: none. */
  retryAfterSeconds: z.number().int().min(0).max(86_400).nullable().optional(),
});

export type FaultSettingsInput = z.input<typeof faultSettingsSchema>;
export type FaultSettingsPatch = z.output<typeof faultSettingsSchema>;

export type FaultSettings = {
  failNext: number;
  status: FailStatus;
  failRate: number;
  seed: number;
  latencyMs: number;
  hangNext: number;
  resetNext: number;
  failRecipients: string | null;
  refuseSenders: string | null;
  maxCallsPerSecond: number | null;
  retryAfterSeconds: number | null;
};

export type FieldProblem = { field: string; message: string };

export class FaultSettingsError extends Error {
  override readonly name = 'FaultSettingsError';
  constructor(readonly details: FieldProblem[]) {
    super(`invalid fault settings: ${details.map(({ field, message }) => `${field}: ${message}`).join('; ')}`);
  }
}

export function parseFaultSettings(input: unknown): FaultSettingsPatch {
  const result = faultSettingsSchema.safeParse(input);
  if (result.success) return result.data;
  throw new FaultSettingsError(result.error.issues.map(toProblem));
}

function toProblem(issue: z.core.$ZodIssue): FieldProblem {
  // An unknown field is reported by its own name, not as a problem of the whole object.
  if (issue.code === 'unrecognized_keys') return { field: issue.keys.join(', '), message: 'unknown fault setting' };
  return { field: issue.path.map(String).join('.') || '(body)', message: issue.message };
}
