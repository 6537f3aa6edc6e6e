import { isIP } from 'node:net';
import { AppError, type Logger } from '@notify/shared/platform';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit } from 'express-rate-limit';
import { sendSignIn } from '../operator-page/sign-in-view.js';
import type { OperatorAccess } from './operator-access.js';
import { identifyOperator } from './operator-guards.js';

export type WrongTokenLimit = { attempts: number; windowMs: number };

/**
 * Bounds guessing the operator token. A request that presents a token (an Authorization header,
 * the sign-in form) and is refused for it (401) counts against its client address; past `attempts`
 * within `windowMs`, every request from that address that presents a token gets 429 until its
 * window ends, the right token included: otherwise the answer would still tell a right guess from
 * a wrong one. Right tokens never count. The count is per process and per address as the handler
 * sees it (`req.ip`, less any port): behind a reverse proxy not named by TRUST_PROXY every client
 * is the proxy's address, and a guesser locks out the proxy's other clients for the window (the
 * session cookie of a signed-in browser still works).
 */
export function limitWrongTokens(access: OperatorAccess, limit: WrongTokenLimit, log: Logger): RequestHandler {
  if (access.mode === 'open') return (_req, _res, next) => next();
  const store = new MemoryStore();
  const keyOf = (req: Request) => ipKeyGenerator(clientAddress(req));
  return rateLimit({
    windowMs: limit.windowMs,
    limit: limit.attempts,
    store,
    keyGenerator: keyOf,
    // A right bearer token passes uncounted unless its address is refused. Counting it and taking
    // it back when it turns out right (as the sign-in form must be, its body not read yet here)
    // would make a burst of right requests in parallel look like guesses.
    skip: async (req) => {
      if (!presentsToken(req)) return true;
      if (identifyOperator(req, access)?.via !== 'bearer') return false;
      return ((await store.get(keyOf(req)))?.totalHits ?? 0) < limit.attempts;
    },
    skipSuccessfulRequests: true,
    // A refused request (429) counts too, so that only the first refusal in a window is logged. A
    // wrong bearer token counts whatever the route answered: a route that does not refuse it (the
    // sign-in page shows its form, 200, where a right token is sent on, 303) would otherwise tell
    // right from wrong with no limit.
    requestWasSuccessful: (req, res) =>
      res.statusCode !== 401 &&
      res.statusCode !== 429 &&
      (req.headers.authorization === undefined || identifyOperator(req, access)?.via === 'bearer'),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    logger: log,
    handler: (req, res, next) => {
      if (firstRefusal(req, limit)) {
        log.warn(
          { client: clientAddress(req), wrongTokens: limit.attempts, windowMs: limit.windowMs },
          'too many wrong operator tokens from one address: refusing its tokens until the window ends',
        );
      }
      const minutes = minutesLeft(req);
      const problem = `too many wrong operator tokens from this address: try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
      if (isSignInForm(req)) return sendSignIn(res, 429, `${capitalize(problem)}.`);
      next(new AppError(429, 'too_many_wrong_tokens', problem));
    },
  });
}

// `203.0.113.7:51234`, `[2001:db8::7]:51234`, `[2001:db8::7]`.
const WITH_PORT = /^(?:\[([^\]]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::\d{1,5})?$/;

/**
 * The client's address without a port. Some proxies (Azure Application Gateway) forward the
 * client as `address:port` in X-Forwarded-For, and Express takes that entry whole: counted as it
 * came, every new connection of a guesser would be a new client, and the limit would not bind.
 */
function clientAddress(req: Request): string {
  const ip = req.ip ?? '';
  const match = WITH_PORT.exec(ip);
  const address = match?.[1] ?? match?.[2];
  return address !== undefined && isIP(address) !== 0 ? address : ip;
}

function presentsToken(req: Request): boolean {
  return req.headers.authorization !== undefined || isSignInForm(req);
}

/** As Express routes it: any case, with or without a trailing slash (`/Sign-In/` reaches the form too). */
const SIGN_IN_PATH = /^\/sign-in\/?$/i;

function isSignInForm(req: Request): boolean {
  return req.method === 'POST' && SIGN_IN_PATH.test(req.path);
}

type Counted = Request & { rateLimit?: { used: number; resetTime?: Date } };

function firstRefusal(req: Request, limit: WrongTokenLimit): boolean {
  return (req as Counted).rateLimit?.used === limit.attempts + 1;
}

function minutesLeft(req: Request): number {
  const resetAt = (req as Counted).rateLimit?.resetTime?.getTime() ?? Date.now();
  return Math.max(1, Math.ceil((resetAt - Date.now()) / 60_000));
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
