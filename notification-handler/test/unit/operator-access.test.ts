import { describe, expect, it } from 'vitest';
import { createOperatorAccess, SESSION_TTL_MS } from '../../src/http/operator-auth/operator-access.js';

const TOKEN = 'a-long-enough-operator-token';

describe('operator access (token, sessions, CSRF tokens)', () => {
  it('When a token is compared, then only the exact token matches', () => {
    const access = createOperatorAccess({ token: TOKEN });
    expect(access.tokenMatches(TOKEN)).toBe(true);
    for (const wrong of ['', TOKEN.slice(0, -1), `${TOKEN} `, TOKEN.toUpperCase()]) {
      expect(access.tokenMatches(wrong)).toBe(false);
    }
    expect(createOperatorAccess({ token: undefined }).tokenMatches('')).toBe(false);
  });

  it('When a session cookie is read back, then it holds no part of the token and opens the same session', () => {
    const access = createOperatorAccess({ token: TOKEN });
    const { cookie, session } = access.openSession();

    expect(cookie).not.toContain(TOKEN);
    expect(access.readSession(cookie)).toEqual(session);
  });

  it('When a cookie is altered, forged by another process or expired, then it opens nothing', () => {
    let now = 1_000_000;
    const access = createOperatorAccess({ token: TOKEN, now: () => now });
    const { cookie } = access.openSession();
    const [expiry, id, mac] = cookie.split('.');

    expect(access.readSession(`${Number(expiry) + 1}.${id}.${mac}`)).toBeUndefined();
    expect(access.readSession(`${expiry}.${id}x.${mac}`)).toBeUndefined();
    expect(access.readSession(`${cookie}.extra`)).toBeUndefined();
    expect(access.readSession(undefined)).toBeUndefined();
    expect(createOperatorAccess({ token: TOKEN }).readSession(cookie)).toBeUndefined();
    now += SESSION_TTL_MS;
    expect(access.readSession(cookie)).toBeUndefined();
  });

  it('When a session is closed, then its cookie opens nothing and other sessions stay', () => {
    const access = createOperatorAccess({ token: TOKEN });
    const first = access.openSession();
    const second = access.openSession();

    access.closeSession(first.session);

    expect(access.readSession(first.cookie)).toBeUndefined();
    expect(access.readSession(second.cookie)).toEqual(second.session);
  });

  it("When a CSRF token is checked, then only its own session's token matches", () => {
    const access = createOperatorAccess({ token: TOKEN });
    const first = access.openSession().session;
    const second = access.openSession().session;

    expect(access.csrfTokenMatches(first, access.csrfToken(first))).toBe(true);
    expect(access.csrfTokenMatches(second, access.csrfToken(first))).toBe(false);
    expect(access.csrfTokenMatches(first, undefined)).toBe(false);
    expect(access.csrfTokenMatches(undefined, access.csrfToken(first))).toBe(false);
  });
});
