import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultSettingsError } from './fault-settings.js';
import type { FaultController } from './faults.js';
import { answerError, answerJson, answerText } from './http-answers.js';
import { INBOX_CSP, renderInbox } from './inbox-page.js';
import { readJson } from './json-body.js';
import type { MessageFilter, MessageStore } from './message-store.js';

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
