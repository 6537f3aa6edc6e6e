import mailjetModule, { type LibraryResponse } from 'node-mailjet';
import type { Sandbox } from '../../src/index.js';

// Under NodeNext, TypeScript reads node-mailjet's types as an ES module whose default export is the
// class, but its CommonJS bundle exports the class itself: the default import is the class at run time.
const Mailjet = mailjetModule as unknown as typeof mailjetModule.default;
type Mailjet = InstanceType<typeof Mailjet>;

// node-mailjet's bundled axios honours proxy variables: they would route the tests elsewhere.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) {
  delete process.env[name];
}

/**
 * The two ways node-mailjet v6 reaches a plain-HTTP server: switching its process-wide
 * `Request.protocol` to http:// ('protocol'), or a proxy configuration ('proxy'), in which case
 * the sandbox receives the absolute URL https://api.mailjet.com/v3.1/send as the request target.
 */
export type ClientMode = 'protocol' | 'proxy';
export const CLIENT_MODES: ClientMode[] = ['protocol', 'proxy'];

export type ClientOptions = { apiKey?: string; apiSecret?: string; timeoutMs?: number };

/** What node-mailjet rejects with: a plain Error carrying these fields. */
export type MailjetClientError = Error & {
  statusCode: number | null;
  statusText: string | null;
  code?: string;
  response: { status: number; data: any; headers: Record<string, string> } | null;
  ErrorCode?: string;
  ErrorMessage?: string;
  ErrorIdentifier?: string;
  ErrorRelatedTo?: string[];
};

export type SendResult = { status: number; body: any; headers: Record<string, unknown> };

type RequestStatics = { protocol: string };

export function mailjetClient(sandbox: Sandbox, mode: ClientMode, options: ClientOptions = {}): Mailjet {
  const { apiKey = sandbox.apiKey, apiSecret = sandbox.apiSecret, timeoutMs = 5_000 } = options;
  if (mode === 'protocol') {
    return new Mailjet({
      apiKey,
      apiSecret,
      config: { host: `127.0.0.1:${sandbox.port}`, version: 'v3.1' },
      options: { timeout: timeoutMs },
    });
  }
  return new Mailjet({
    apiKey,
    apiSecret,
    config: { version: 'v3.1' },
    options: { timeout: timeoutMs, proxy: { protocol: 'http', host: '127.0.0.1', port: sandbox.port } },
  });
}

/**
 * POST send v3.1 through node-mailjet. In 'protocol' mode the static is switched only while
 * `request()` builds its URL (synchronously, before its first await) and restored at once, so no
 * other client in the process ever sees it.
 */
export async function sendThroughMailjet(
  sandbox: Sandbox,
  mode: ClientMode,
  body: Record<string, unknown> | string,
  options: ClientOptions = {},
): Promise<SendResult> {
  const request = mailjetClient(sandbox, mode, options).post('send', { version: 'v3.1' });
  const statics = Mailjet.Request as unknown as RequestStatics;
  const previous = statics.protocol;
  if (mode === 'protocol') statics.protocol = 'http://';
  let pending: Promise<LibraryResponse<unknown>>;
  try {
    pending = request.request(body);
  } finally {
    statics.protocol = previous;
  }
  const { response } = await pending;
  return { status: response.status, body: response.data, headers: response.headers as Record<string, unknown> };
}

/** For a send that must fail: resolves with node-mailjet's error, throws if the send succeeded. */
export async function sendExpectingError(
  sandbox: Sandbox,
  mode: ClientMode,
  body: Record<string, unknown> | string,
  options: ClientOptions = {},
): Promise<MailjetClientError> {
  try {
    const result = await sendThroughMailjet(sandbox, mode, body, options);
    throw new Error(`expected the send to fail, it answered ${result.status}`);
  } catch (error) {
    if ((error as Error).message.startsWith('expected the send to fail')) throw error;
    return error as MailjetClientError;
  }
}
