/** The providers the sandbox speaks for: Mailjet's Send API v3.1 and SendGrid's Mail Send v3. */
export const SANDBOX_PROVIDERS = ['mailjet', 'sendgrid'] as const;
export type SandboxProvider = (typeof SANDBOX_PROVIDERS)[number];

export const isSandboxProvider = (value: unknown): value is SandboxProvider =>
  typeof value === 'string' && (SANDBOX_PROVIDERS as readonly string[]).includes(value);

/** Thrown for a `provider` that names neither; the HTTP API answers 400 naming the field. */
export class UnknownProviderError extends Error {
  override readonly name = 'UnknownProviderError';
  constructor(readonly field: string) {
    super(`${field} must be one of ${SANDBOX_PROVIDERS.join(', ')}`);
  }
}

/** The providers a request names: the one given, or every one when none is. */
export function providersNamed(value: unknown, field: string): SandboxProvider[] {
  if (value === undefined || value === null || value === '') return [...SANDBOX_PROVIDERS];
  if (!isSandboxProvider(value)) throw new UnknownProviderError(field);
  return [value];
}
