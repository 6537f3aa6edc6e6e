import type { Request, Response } from 'express';
import { SESSION_TTL_MS } from './operator-access.js';

export const SESSION_COOKIE = 'notify_operator';

/**
 * HttpOnly: no script reads it. SameSite=Strict: no other site's page sends it (other ports of the
 * same host are the same site, hence the page's origin check and CSRF token as well). Secure when
 * the request came over HTTPS (`req.secure`: through a proxy TRUST_PROXY names, its
 * X-Forwarded-Proto), so that the browser never sends it over plain HTTP to the same host; not on
 * plain HTTP, where a browser would drop it.
 */
export function setSessionCookie(req: Request, res: Response, value: string): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attributes(req)}; Max-Age=${SESSION_TTL_MS / 1_000}`);
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; ${attributes(req)}; Max-Age=0`);
}

function attributes(req: Request): string {
  return `HttpOnly; SameSite=Strict; Path=/${req.secure ? '; Secure' : ''}`;
}

export function readSessionCookie(req: Request): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) return pair.slice(at + 1).trim();
  }
  return undefined;
}
