/** A client of the operator API and page, as curl or a form would call them: raw status, headers and text. */
export type Answer = { status: number; headers: Headers; text: string; json: () => any };

export function operatorClient(baseUrl: () => string) {
  const call = async (path: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await fetch(`${baseUrl()}${path}`, {
      redirect: 'manual',
      ...init,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };
  return {
    call,
    bearer: (token: string) => ({ authorization: `Bearer ${token}` }),
    /** Signs in through the form; gives the Cookie header to send and the Set-Cookie that came. */
    async signIn(token: string): Promise<{ cookie: string; setCookie: string; answer: Answer }> {
      const answer = await call('/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      const setCookie = answer.headers.getSetCookie()[0] ?? '';
      return { cookie: setCookie.split(';')[0] ?? '', setCookie, answer };
    },
    /** Posts a page form as the browser would: urlencoded, same-origin. */
    postForm(path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
      return call(path, {
        method: 'POST',
        headers: {
          cookie,
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
          ...headers,
        },
        body: new URLSearchParams(fields).toString(),
      });
    },
  };
}

/** The CSRF token a page's forms carry. */
export function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`no CSRF token in the page:\n${html.slice(0, 500)}`);
  return token;
}
