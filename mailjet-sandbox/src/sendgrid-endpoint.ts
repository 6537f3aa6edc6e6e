import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultController, FaultDecision } from './faults.js';
import { answerProxyPage, answerText } from './http-answers.js';
import { readBody } from './json-body.js';
import type { MessageStore, StoredMessage, StoredRecipient } from './message-store.js';
import { countOutcome, FAULT_REASONS, holdOpen, isoNow, setRetryAfter } from './send-calls.js';
import type { SendStats } from './send-stats.js';
import {
  contentTooLarge,
  internalServerError,
  invalidUtf8,
  malformedBody,
  type SendGridErrorBody,
  tooManyRequests,
  unauthorized,
  unverifiedSender,
} from './sendgrid-errors.js';
import { inDomain, isObject, type RecipientKind } from './validate-messages.js';
import {
  checkMailSend,
  type MailSendRequest,
  SENDGRID_RECIPIENT_KINDS,
  type SendGridPersonalization,
} from './validate-sendgrid.js';

export const SENDGRID_SEND_PATH = '/v3/mail/send';

/** SendGrid takes up to 30 MB per message, attachments included. */
export const DEFAULT_SENDGRID_MAX_BODY_BYTES = 30 * 1024 * 1024;

/** What POST /v3/mail/send needs: SendGrid's own fault controller and counters among them. */
export type SendGridDependencies = {
  faults: FaultController;
  stats: SendStats;
  store: MessageStore;
  isAuthorized: (authorizationHeader: string | undefined) => boolean;
  /** The X-Message-Id of an accepted request. */
  nextMessageId: () => string;
  maxBodyBytes: number;
  hung: Set<Socket>;
};

const KIND_NAMES: Record<(typeof SENDGRID_RECIPIENT_KINDS)[number], RecipientKind> = { to: 'To', cc: 'Cc', bcc: 'Bcc' };

/**
 * POST /v3/mail/send, as SendGrid answers it: 202 with an empty body and the X-Message-Id header,
 * or one error body for the whole request. Faults strike first, as on the Mailjet endpoint, then
 * Bearer credentials, then size, then validation.
 */
export function createSendGridEndpoint(deps: SendGridDependencies) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    deps.stats.onCall();
    const fault = deps.faults.onSendCall();
    await answerMailSend(req, res, fault, deps);
    countOutcome(deps.stats, fault, res);
  };
}

async function answerMailSend(
  req: IncomingMessage,
  res: ServerResponse,
  fault: FaultDecision,
  deps: SendGridDependencies,
): Promise<void> {
  if (fault.action === 'hang') return holdOpen(req, deps.hung);
  const body = await readBody(req, deps.maxBodyBytes);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.action === 'reset') return void req.socket.resetAndDestroy();
  if (fault.action === 'throttle') return answerThrottled(res, fault.retryAfterSeconds);
  if (fault.action === 'fail') return answerFault(res, fault);
  if (!deps.isAuthorized(req.headers.authorization)) return answerErrors(res, 401, unauthorized());
  if (!body.ok) return body.reason === 'too_large' ? answerErrors(res, 413, contentTooLarge()) : undefined;
  if (!body.utf8) return answerErrors(res, 415, invalidUtf8());

  const parsed = parseJson(body.text);
  if (parsed === undefined) return answerErrors(res, 400, malformedBody());
  const checked = checkMailSend(parsed, fault.failDomain);
  if (!checked.ok) return answerErrors(res, 400, { errors: checked.errors });
  if (isRefusedSender(checked.request, fault.refusedSenderDomain)) return answerErrors(res, 403, unverifiedSender());
  // Sandbox mode validates and delivers nothing; SendGrid documents the 200, not a body.
  if (isSandboxMode(checked.request)) return answerText(res, 200, '', 'text/plain; charset=utf-8');
  const messageId = deps.nextMessageId();
  for (const message of toStored(checked.request, messageId, isoNow())) deps.store.add(message);
  res.writeHead(202, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0, 'X-Message-Id': messageId });
  res.end();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRefusedSender(request: MailSendRequest, refusedDomain: string | null): boolean {
  const sender = (request.from as { email?: unknown } | undefined)?.email;
  return refusedDomain !== null && typeof sender === 'string' && inDomain(sender, refusedDomain);
}

function isSandboxMode(request: MailSendRequest): boolean {
  const settings = request.mail_settings;
  const sandboxMode = isObject(settings) ? settings.sandbox_mode : undefined;
  return isObject(sandboxMode) && sandboxMode.enable === true;
}

/**
 * SendGrid sends one email per personalization: each is stored on its own, the personalization's
 * fields over the message's (`custom_args` and `headers` merged), so that it reads like what its
 * recipients get. They share the request's X-Message-Id.
 */
function toStored(request: MailSendRequest, messageId: string, receivedAt: string): StoredMessage[] {
  const { personalizations, ...message } = request;
  return personalizations.map((personalization) => {
    const { custom_args: ownArgs, headers: ownHeaders, ...own } = personalization;
    const customArgs = merged(message.custom_args, ownArgs);
    const headers = merged(message.headers, ownHeaders);
    return {
      ...message,
      ...own,
      ...(customArgs ? { custom_args: customArgs } : {}),
      ...(headers ? { headers } : {}),
      provider: 'sendgrid' as const,
      MessageID: messageId,
      receivedAt,
      Recipients: recipientsOf(personalization, messageId),
    };
  });
}

function merged(outer: unknown, inner: unknown): Record<string, unknown> | undefined {
  if (!isObject(outer) && !isObject(inner)) return undefined;
  return { ...(isObject(outer) ? outer : {}), ...(isObject(inner) ? inner : {}) };
}

function recipientsOf(personalization: SendGridPersonalization, messageId: string): StoredRecipient[] {
  return SENDGRID_RECIPIENT_KINDS.flatMap((kind) =>
    (personalization[kind] ?? []).map(({ email }) => ({ Type: KIND_NAMES[kind], Email: email, MessageID: messageId })),
  );
}

function answerErrors(res: ServerResponse, status: number, body: SendGridErrorBody): void {
  answerText(res, status, JSON.stringify(body), 'application/json');
}

/** SendGrid's generic 429 body; a Retry-After only when the fault asks for one (none is documented). */
function answerThrottled(res: ServerResponse, retryAfterSeconds: number | null): void {
  setRetryAfter(res, retryAfterSeconds);
  answerErrors(res, 429, tooManyRequests());
}

/** 500 and 429 answer SendGrid's JSON; 502-504 the HTML page of a proxy in front of it. */
function answerFault(res: ServerResponse, { status, retryAfterSeconds }: FaultDecision): void {
  if (status === 429) answerThrottled(res, retryAfterSeconds);
  else if (status === 500) answerErrors(res, 500, internalServerError());
  else answerProxyPage(res, status, FAULT_REASONS[status]);
}

/** Shaped like SendGrid's (`8mw9nktNSBSGQnrHkXny8Q`): 22 URL-safe base64 characters. */
export const newSendGridMessageId = (): string => randomBytes(16).toString('base64url').slice(0, 22);
