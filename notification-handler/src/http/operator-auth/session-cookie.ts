import type { Request, Response } from 'express';
import { SESSION_TTL_MS } from './operator-access.js';

export const SESSION_COOKIE = 'notify_operator';

/**
 * HttpOnly: no script reads it. SameSite=Strict: no other site's page sends it (other ports of the
 * same host are the same site, hence the page's origin check and CSRF token as well). No `Secure`:
 * the handler speaks plain HTTP; behind TLS the proxy can add it.
 */
export function setSessionCookie(res: Response, value: string): void {
  res.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1_000}`,
  );
}

export function clearSessionCookie(res: Response): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
}

export function readSessionCookie(req: Request): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) return pair.slice(at + 1).trim();
  }
  return undefined;
}
