import { AppError } from '@notify/shared/platform';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { OperatorAccess, OperatorSession } from './operator-access.js';
import { readSessionCookie } from './session-cookie.js';

/** How the request proved it may operate: a bearer token, a signed-in browser, or no token set at all. */
export type Operator = { via: 'bearer' } | { via: 'cookie'; session: OperatorSession } | { via: 'open' };

const BEARER = /^Bearer +(\S+) *$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function identifyOperator(req: Request, access: OperatorAccess): Operator | undefined {
  if (access.mode === 'open')
    return addressedToLoopback(req.headers.host) && !forwarded(req) ? { via: 'open' } : undefined;
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    // A wrong token is refused even next to a good cookie: the caller meant the header.
    const token = BEARER.exec(authorization)?.[1];
    return token !== undefined && access.tokenMatches(token) ? { via: 'bearer' } : undefined;
  }
  const session = access.readSession(readSessionCookie(req));
  return session ? { via: 'cookie', session } : undefined;
}

// localhost and its subdomains, 127.0.0.0/8, [::1]; with or without a port.
const LOOPBACK_HOST = /^(?:(?:[a-z0-9-]+\.)*localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * Open mode listens on loopback only, but a page of another site can still reach it: its name,
 * rebound in DNS to 127.0.0.1, makes the browser treat this API as that site's own (DNS rebinding).
 * Such a request still names that site in its Host header; one addressed to loopback does not.
 */
function addressedToLoopback(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

// What a reverse proxy adds to the requests it passes on.
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/**
 * A proxy on the same machine reaches loopback for its clients, and one that passes `Host` on as
 * its upstream's (nginx's default, `127.0.0.1:3001`) makes each of them look local: open mode is
 * for the operator at this machine, so a request that a proxy carried is refused.
 */
function forwarded(req: Request): boolean {
  return PROXY_HEADERS.some((name) => req.headers[name] !== undefined);
}

export function operatorOf(res: Response): Operator {
  const operator = res.locals.operator as Operator | undefined;
  if (!operator) throw new Error('operatorOf called on a route no guard protects');
  return operator;
}

export function sessionOf(res: Response): OperatorSession | undefined {
  const operator = operatorOf(res);
  return operator.via === 'cookie' ? operator.session : undefined;
}

export function unauthorized(res: Response): AppError {
  res.set('WWW-Authenticate', 'Bearer realm="notify operator"');
  return new AppError(
    401,
    'unauthorized',
    'missing or wrong operator token: send Authorization: Bearer <OPERATOR_TOKEN>, or sign in at /sign-in',
  );
}

/**
 * The JSON API. A state-changing request must carry the Authorization header or declare a JSON
 * body: a page of another site can send neither without a CORS preflight, which this API never
 * answers, so a cross-site form (urlencoded, multipart, text/plain) riding on the cookie is refused.
 */
export function guardApi(access: OperatorAccess): RequestHandler {
  return (req, res, next) => {
    // Its answers carry recipients and stored requests: kept out of a signed-in browser's cache,
    // as the page is.
    res.set('Cache-Control', 'no-store');
    const operator = identifyOperator(req, access);
    if (!operator) return next(unauthorized(res));
    res.locals.operator = operator;
    if (SAFE_METHODS.has(req.method) || req.headers.authorization !== undefined || declaresJson(req)) return next();
    next(
      new AppError(
        415,
        'unsupported_media_type',
        'a state-changing request needs Content-Type: application/json or an Authorization: Bearer header',
      ),
    );
  };
}

/**
 * The page's own forms (urlencoded) instead prove they come from the page: the browser says the
 * request is same-origin, and the form carries the session's CSRF token (for clients that send
 * neither Sec-Fetch-Site nor Origin). SameSite=Strict alone would not do: another port of the same
 * host (the sandbox's inbox, say) is the same site.
 */
export function guardPageForm(access: OperatorAccess): RequestHandler[] {
  return [
    express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 20 }),
    (req, res, next) => {
      if (operatorOf(res).via === 'bearer') return next();
      if (!fromSameOrigin(req)) return next(new AppError(403, 'cross_origin', 'this form must come from this page'));
      if (!access.csrfTokenMatches(sessionOf(res), req.body?.csrf))
        return next(new AppError(403, 'csrf_token', 'the form is stale or not from this page: reload the page'));
      next();
    },
  ];
}

export function fromSameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  // Neither header (an old browser, a script): the CSRF token alone decides.
  return origin === undefined || origin === `${req.protocol}://${req.get('host')}`;
}

function declaresJson(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}
