import { unsetIfEmpty } from '@notify/shared/platform';
import { z } from 'zod';

/**
 * The operator token: long enough that guessing is hopeless, and only characters an
 * `Authorization: Bearer` header can carry.
 */
export const operatorTokenSetting = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .regex(/^[\x21-\x7e]{16,200}$/, 'must be 16 to 200 visible ASCII characters (no spaces), e.g. openssl rand -hex 32')
    .optional(),
);

/** An address only this machine reaches: the one place the operator API may stay open. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host);
}

/** Bound to anything but loopback, the API and the page would be open to the network: refuse. */
export function requireTokenOffLoopback(
  env: { HOST: string; OPERATOR_TOKEN?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (env.OPERATOR_TOKEN !== undefined || isLoopback(env.HOST)) return;
  ctx.addIssue({
    code: 'custom',
    path: ['OPERATOR_TOKEN'],
    message: `must be set when HOST (${env.HOST}) is not a loopback address: without it the operator API and page would be open to the network`,
  });
}
