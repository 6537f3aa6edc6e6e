import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FailStatus } from './fault-settings.js';
import type { FaultController } from './faults.js';
import { answerJson, answerJsonText, answerProxyPage } from './http-answers.js';
import { readBody } from './json-body.js';
import { internalServerError, unauthorized } from './mailjet-errors.js';
import type { MessageStore } from './message-store.js';
import { parseSendRequest, sendBatch } from './send-batch.js';

export type SendDependencies = {
  faults: FaultController;
  store: MessageStore;
  isAuthorized: (authorizationHeader: string | undefined) => boolean;
  nextId: () => string;
  nextUuid: () => string;
  maxBodyBytes: number;
  /** Sockets held open by `hangNext`; stopping the sandbox destroys them. */
  hung: Set<Socket>;
};

const FAULT_REASONS: Record<Exclude<FailStatus, 500>, string> = {
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/**
 * POST /v3.1/send. The fault is decided before anything else, as the call arrives, so that "the
 * next N calls" counts calls in arrival order; like a proxy or rate limiter in front of Mailjet,
 * faults strike before credentials are checked.
 */
export function createSendEndpoint(deps: SendDependencies) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const fault = deps.faults.onSendCall();
    if (fault.action === 'hang') return holdOpen(req, deps.hung);
    const body = await readBody(req, deps.maxBodyBytes);
    if (fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault.action === 'reset') return void req.socket.resetAndDestroy();
    if (fault.action === 'fail') return answerFault(res, fault.status);
    if (!deps.isAuthorized(req.headers.authorization)) return answerJson(res, 401, unauthorized());
    if (!body.ok)
      return body.reason === 'too_large' ? answerProxyPage(res, 413, 'Request Entity Too Large') : undefined;

    const parsed = parseSendRequest(body.text);
    if (!parsed.ok) return answerJson(res, 400, parsed.error);
    const context = { nextId: deps.nextId, nextUuid: deps.nextUuid, failDomain: fault.failDomain };
    const outcome = sendBatch(parsed.request, context, isoNow());
    for (const message of outcome.accepted) deps.store.add(message);
    answerJsonText(res, outcome.status, outcome.body);
  };
}

let lastMs = 0;
let lastIso = '';

/** Formatting a date is a measurable share of a small send: calls in the same millisecond share one. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/** Registered as the call arrives, so that a stop right after it still finds the socket to destroy. */
function holdOpen(req: IncomingMessage, hung: Set<Socket>): void {
  const { socket } = req;
  hung.add(socket);
  socket.once('close', () => hung.delete(socket));
  req.resume();
}

function answerFault(res: ServerResponse, status: FailStatus): void {
  if (status === 500) answerJson(res, 500, internalServerError());
  else answerProxyPage(res, status, FAULT_REASONS[status]);
}
