import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultSettingsError, type FieldProblem } from './fault-settings.js';
import { answerError, answerJson, answerText } from './http-answers.js';
import { INBOX_CSP, renderInbox } from './inbox-page.js';
import { readJson } from './json-body.js';
import type { MessageFilter, MessageStore } from './message-store.js';
import type { ProviderFaults } from './provider-faults.js';
import { isSandboxProvider, type SandboxProvider, UnknownProviderError } from './providers.js';
import type { ProviderStats } from './send-stats.js';

/** Fault settings are a few fields; nothing legitimate comes near this. */
const MAX_FAULTS_BODY_BYTES = 64 * 1024;
const DEFAULT_INBOX_LIMIT = 50;

/** `CustomID` is Mailjet's name for the tracking id: both filter on the same thing. */
const filterOf = (query: URLSearchParams): MessageFilter => ({
  trackingId: query.get('trackingId') ?? query.get('CustomID') ?? undefined,
  to: query.get('to') ?? undefined,
  provider: providerOf(query),
});

/** The `provider` query parameter, if any; anything but a provider's name is a 400 naming it. */
function providerOf(query: URLSearchParams): SandboxProvider | undefined {
  const value = query.get('provider');
  if (value === null || value === '') return undefined;
  if (!isSandboxProvider(value)) throw new UnknownProviderError('query.provider');
  return value;
}

/** Runs `answer`; a wrong `provider` answers 400 naming where it was. */
function withProvider(res: ServerResponse, answer: () => void): void {
  try {
    answer();
  } catch (error) {
    if (!(error instanceof UnknownProviderError)) throw error;
    answerInvalid(res, [{ field: error.field, message: error.message }]);
  }
}

function answerInvalid(res: ServerResponse, details: FieldProblem[]): void {
  answerError(res, 400, 'validation_failed', `invalid ${details.map((d) => d.field).join(', ')}`, details);
}

/** GET /sandbox/messages?trackingId=&CustomID=&to=&provider= : the accepted messages, in the order received. */
export function listMessages(res: ServerResponse, query: URLSearchParams, store: MessageStore): void {
  withProvider(res, () => answerJson(res, 200, { messages: store.list(filterOf(query)) }));
}

/**
 * GET /sandbox/tally : every message accepted since the start or the last clear, counted by tracking
 * id, the ones the store no longer keeps included.
 */
export function showTally(res: ServerResponse, store: MessageStore): void {
  answerJson(res, 200, store.tally());
}

/** DELETE /sandbox/messages: the store and its tally. */
export function clearMessages(res: ServerResponse, store: MessageStore): void {
  store.clear();
  res.writeHead(204).end();
}

/** GET / : newest first, at most `?limit=` (default 50); accepts the same filters as the API. */
export function showInbox(res: ServerResponse, query: URLSearchParams, store: MessageStore): void {
  withProvider(res, () => renderFiltered(res, query, store));
}

function renderFiltered(res: ServerResponse, query: URLSearchParams, store: MessageStore): void {
  const limit = Number.parseInt(query.get('limit') ?? '', 10);
  const messages = store.list(filterOf(query)).reverse();
  const shown = messages.slice(0, Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_INBOX_LIMIT);
  res.setHeader('Content-Security-Policy', INBOX_CSP);
  // frame-ancestors says the same, but browsers from before CSP level 2 read only this one.
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  answerText(res, 200, renderInbox(shown, messages.length), 'text/html; charset=utf-8');
}

/** GET /sandbox/faults?provider= : that provider's settings, Mailjet's when none is named. */
export function showFaults(res: ServerResponse, query: URLSearchParams, faults: ProviderFaults): void {
  withProvider(res, () => answerJson(res, 200, faults.current(providerOf(query))));
}

/** DELETE /sandbox/faults?provider= : clears that provider's faults, or both's; answers the first. */
export function clearFaults(res: ServerResponse, query: URLSearchParams, faults: ProviderFaults): void {
  withProvider(res, () => answerJson(res, 200, faults.clear(providerOf(query))));
}

/**
 * POST /sandbox/faults: merges the given fields into `provider`'s settings, or both's without it,
 * and answers that provider's (Mailjet's without it); a bad field is a 400 that names it.
 */
export async function setFaults(req: IncomingMessage, res: ServerResponse, faults: ProviderFaults): Promise<void> {
  const body = await readJson(req, MAX_FAULTS_BODY_BYTES);
  if (!body.ok) {
    if (body.reason === 'malformed') answerError(res, 400, 'malformed_json', 'body is not valid JSON');
    if (body.reason === 'too_large') answerError(res, 413, 'body_too_large', 'fault settings are too large');
    return;
  }
  try {
    answerJson(res, 200, faults.set(body.value as Record<string, unknown>));
  } catch (error) {
    if (error instanceof UnknownProviderError)
      return answerInvalid(res, [{ field: 'body.provider', message: error.message }]);
    if (!(error instanceof FaultSettingsError)) throw error;
    const details = error.details.map(({ field, message }) => ({ field: `body.${field}`, message }));
    answerError(res, 400, 'validation_failed', `invalid body: ${details.map((d) => d.field).join(', ')}`, details);
  }
}

/** GET /sandbox/stats?provider= : that provider's send calls (Mailjet's when none is named). */
export function showStats(res: ServerResponse, query: URLSearchParams, stats: ProviderStats): void {
  withProvider(res, () => answerJson(res, 200, stats.current(providerOf(query))));
}

/** DELETE /sandbox/stats?provider= : that provider's counters, or both's, from zero; answers the first. */
export function resetStats(res: ServerResponse, query: URLSearchParams, stats: ProviderStats): void {
  withProvider(res, () => answerJson(res, 200, stats.reset(providerOf(query))));
}

/**
 * Why a state-changing request is refused for its content type, or undefined when it is not. A web
 * page may send a cross-site POST without asking first only with a form content type (text/plain,
 * form-urlencoded, multipart) or none, so a POST must say application/json. Any other method (here,
 * DELETE) is never sent cross-site without a CORS preflight, which the sandbox never grants: it
 * needs no body and no content type, but may not carry another one.
 */
export function contentTypeProblem(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/json') return undefined;
  if (mediaType === undefined || mediaType === '') {
    return req.method === 'POST' ? 'content type must be application/json, got none' : undefined;
  }
  return `content type must be application/json, got ${JSON.stringify(header?.slice(0, 60))}`;
}
