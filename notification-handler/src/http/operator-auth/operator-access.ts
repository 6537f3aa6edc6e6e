import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A signed-in browser: `id` is the random part of its cookie, which sign-out revokes. */
export type OperatorSession = { id: string; expiresAt: number };

export type OperatorAccess = ReturnType<typeof createOperatorAccess>;

export const SESSION_TTL_MS = 8 * 60 * 60 * 1_000;

/**
 * Who may use the operator API and page. With a token: a bearer token equal to it, or a session
 * cookie issued by sign-in. Without one (allowed on loopback only): everyone, in `open` mode.
 *
 * The cookie is `<expiry>.<random id>.<HMAC>` under a key drawn at random when the process starts:
 * it carries nothing derived from the token (a stolen cookie gives no way to guess the token
 * offline), it expires on its own, and a restart signs every browser out. The price: each handler
 * instance signs its own cookies, so several instances behind one address need sticky sessions
 * (the bearer token works everywhere).
 */
export function createOperatorAccess({ token, now = Date.now }: { token: string | undefined; now?: () => number }) {
  const key = randomBytes(32);
  const tokenDigest = token === undefined ? undefined : digest(token);
  /** Signed-out session ids, until their cookie would have expired anyway. */
  const revoked = new Map<string, number>();
  const mac = (data: string) => createHmac('sha256', key).update(data).digest('base64url');

  return {
    mode: token === undefined ? ('open' as const) : ('token' as const),

    /** Constant time: both sides are hashed first, so lengths are equal and nothing leaks through timing. */
    tokenMatches(candidate: string): boolean {
      return tokenDigest !== undefined && timingSafeEqual(digest(candidate), tokenDigest);
    },

    openSession(): { cookie: string; session: OperatorSession } {
      const session = { id: randomBytes(16).toString('base64url'), expiresAt: now() + SESSION_TTL_MS };
      const payload = `${session.expiresAt}.${session.id}`;
      return { cookie: `${payload}.${mac(`session.${payload}`)}`, session };
    },

    readSession(cookie: string | undefined): OperatorSession | undefined {
      const [expiry, id, signature, ...rest] = (cookie ?? '').split('.');
      if (!expiry || !id || !signature || rest.length > 0 || !/^\d{1,15}$/.test(expiry)) return undefined;
      if (!sameText(signature, mac(`session.${expiry}.${id}`))) return undefined;
      const expiresAt = Number(expiry);
      if (expiresAt <= now() || revoked.has(id)) return undefined;
      return { id, expiresAt };
    },

    closeSession(session: OperatorSession): void {
      for (const [id, expiresAt] of revoked) if (expiresAt <= now()) revoked.delete(id);
      revoked.set(session.id, session.expiresAt);
    },

    /** The CSRF token of a session's forms (or of the open page's, which has no session). */
    csrfToken(session: OperatorSession | undefined): string {
      return mac(`csrf.${session?.id ?? 'open'}`);
    },

    csrfTokenMatches(session: OperatorSession | undefined, candidate: unknown): boolean {
      return typeof candidate === 'string' && sameText(candidate, mac(`csrf.${session?.id ?? 'open'}`));
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function sameText(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
