import { isIP } from 'node:net';
import { unsetIfEmpty } from '@notify/shared/platform';
import { z } from 'zod';

/** The names Express's `trust proxy` (proxy-addr) knows for whole ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Which reverse proxies may name the client in `X-Forwarded-For` (Express's `trust proxy`): how
 * many hops in front of the handler, or the proxies' addresses and subnets. Unset: none, and the
 * client is whoever opened the connection. `true` (trust every hop) is refused: any client could
 * then name itself anyone, and step around the wrong-token limit with a header. So is a subnet of
 * prefix 0 (`0.0.0.0/0`, `::/0`), which is `true` by another name.
 */
export const trustProxySetting = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((value, ctx): number | string[] => {
      const trimmed = value.trim();
      if (/^\d+$/.test(trimmed)) return Number(trimmed);
      const entries = trimmed.split(',').map((entry) => entry.trim());
      const wrong = entries.filter((entry) => !isProxyAddress(entry));
      if (wrong.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a hop count or a comma-separated list of proxy addresses or subnets (10.0.0.0/8, loopback, linklocal, uniquelocal; not every address, /0); not ${wrong.join(', ')}`,
        });
        return z.NEVER;
      }
      return entries;
    })
    .optional(),
);

function isProxyAddress(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) > 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}
