import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultSettingsError } from './fault-settings.js';
import type { FaultController } from './faults.js';
import { answerError, answerJson, answerText } from './http-answers.js';
import { INBOX_CSP, renderInbox } from './inbox-page.js';
import { readJson } from './json-body.js';
import type { MessageFilter, MessageStore } from './message-store.js';
import type { SendStats } from './send-stats.js';

/** Fault settings are a few fields; nothing legitimate comes near this. */
const MAX_FAULTS_BODY_BYTES = 64 * 1024;
const DEFAULT_INBOX_LIMIT = 50;

const filterOf = (query: URLSearchParams): MessageFilter => ({
  customId: query.get('CustomID') ?? undefined,
  to: query.get('to') ?? undefined,
});

/** GET /sandbox/messages?CustomID=&to= : the accepted messages, in the order received. */
export function listMessages(res: ServerResponse, query: URLSearchParams, store: MessageStore): void {
  answerJson(res, 200, { messages: store.list(filterOf(query)) });
}

export function clearMessages(res: ServerResponse, store: MessageStore): void {
  store.clear();
  res.writeHead(204).end();
}

/** GET / : newest first, at most `?limit=` (default 50); accepts the same filters as the API. */
export function showInbox(res: ServerResponse, query: URLSearchParams, store: MessageStore): void {
  const limit = Number.parseInt(query.get('limit') ?? '', 10);
  const messages = store.list(filterOf(query)).reverse();
  const shown = messages.slice(0, Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_INBOX_LIMIT);
  res.setHeader('Content-Security-Policy', INBOX_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  answerText(res, 200, renderInbox(shown, messages.length), 'text/html; charset=utf-8');
}

export function showFaults(res: ServerResponse, faults: FaultController): void {
  answerJson(res, 200, faults.current());
}

export function clearFaults(res: ServerResponse, faults: FaultController): void {
  answerJson(res, 200, faults.clear());
}

/** POST /sandbox/faults: merges the given fields; a bad field is a 400 that names it. */
export async function setFaults(req: IncomingMessage, res: ServerResponse, faults: FaultController): Promise<void> {
  const body = await readJson(req, MAX_FAULTS_BODY_BYTES);
  if (!body.ok) {
    if (body.reason === 'malformed') answerError(res, 400, 'malformed_json', 'body is not valid JSON');
    if (body.reason === 'too_large') answerError(res, 413, 'body_too_large', 'fault settings are too large');
    return;
  }
  try {
    answerJson(res, 200, faults.set(body.value as Record<string, unknown>));
  } catch (error) {
    if (!(error instanceof FaultSettingsError)) throw error;
    const details = error.details.map(({ field, message }) => ({ field: `body.${field}`, message }));
    answerError(res, 400, 'validation_failed', `invalid body: ${details.map((d) => d.field).join(', ')}`, details);
  }
}

/** GET /sandbox/stats: the calls to /v3.1/send since the start or the last DELETE. */
export function showStats(res: ServerResponse, stats: SendStats): void {
  answerJson(res, 200, stats.current());
}

/** DELETE /sandbox/stats: starts counting again from zero, and answers the fresh counters. */
export function resetStats(res: ServerResponse, stats: SendStats): void {
  answerJson(res, 200, stats.reset());
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
