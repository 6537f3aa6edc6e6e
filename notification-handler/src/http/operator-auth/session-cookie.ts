import type { Request, Response } from 'express';
import { SESSION_TTL_MS } from './operator-access.js';

export const SESSION_COOKIE = 'notify_operator';

/**
 * HttpOnly: no script reads it. SameSite=Strict: no other site's page sends it (other ports of the
 * same host are the same site, hence the page's origin check and CSRF token as well). Secure when
 * the browser is on HTTPS, so that it never sends the cookie over plain HTTP to the same host (where
 * anyone on the path reads it); not on plain HTTP, where a browser would drop it.
 */
export function setSessionCookie(req: Request, res: Response, value: string): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=${value}; ${attributes(req)}; Max-Age=${SESSION_TTL_MS / 1_000}`);
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.append('Set-Cookie', `${SESSION_COOKIE}=; ${attributes(req)}; Max-Age=0`);
}

function attributes(req: Request): string {
  return `HttpOnly; SameSite=Strict; Path=/${overHttps(req) ? '; Secure' : ''}`;
}

/**
 * `req.secure` sees HTTPS only through a proxy TRUST_PROXY names (its X-Forwarded-Proto); behind a
 * TLS proxy left unnamed, the browser still says it in the Origin of the form it posts. A client
 * that claims https falsely gets a cookie that it, on plain HTTP, drops: its own loss, nobody else's.
 */
function overHttps(req: Request): boolean {
  return req.secure || /^https:\/\//i.test(req.get('origin') ?? '');
}

export function readSessionCookie(req: Request): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) return pair.slice(at + 1).trim();
  }
  return undefined;
}
