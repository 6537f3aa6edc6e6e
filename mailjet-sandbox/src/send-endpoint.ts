import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultController, FaultDecision } from './faults.js';
import { answerJson, answerJsonText, answerProxyPage, answerText } from './http-answers.js';
import { readBody } from './json-body.js';
import { internalServerError, unauthorized } from './mailjet-errors.js';
import type { MessageStore } from './message-store.js';
import { parseSendRequest, sendBatch } from './send-batch.js';
import { countOutcome, FAULT_REASONS, holdOpen, isoNow, setRetryAfter } from './send-calls.js';
import type { SendStats } from './send-stats.js';

/** What POST /v3.1/send needs: Mailjet's own fault controller and counters among them. */
export type SendDependencies = {
  faults: FaultController;
  stats: SendStats;
  store: MessageStore;
  isAuthorized: (authorizationHeader: string | undefined) => boolean;
  nextId: () => string;
  nextUuid: () => string;
  maxBodyBytes: number;
  /** Sockets held open by `hangNext`; stopping the sandbox destroys them. */
  hung: Set<Socket>;
};

/**
 * POST /v3.1/send. The fault is decided before anything else, as the call arrives, so that "the
 * next N calls" counts calls in arrival order; like a proxy or rate limiter in front of Mailjet,
 * faults strike before credentials are checked.
 */
export function createSendEndpoint(deps: SendDependencies) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    deps.stats.onCall();
    const fault = deps.faults.onSendCall();
    await answerSend(req, res, fault, deps);
    countOutcome(deps.stats, fault, res);
  };
}

async function answerSend(
  req: IncomingMessage,
  res: ServerResponse,
  fault: FaultDecision,
  deps: SendDependencies,
): Promise<void> {
  if (fault.action === 'hang') return holdOpen(req, deps.hung);
  const body = await readBody(req, deps.maxBodyBytes);
  if (fault.latencyMs > 0) await sleep(fault.latencyMs);
  if (fault.action === 'reset') return void req.socket.resetAndDestroy();
  if (fault.action === 'throttle') return answerRateLimited(res, fault.retryAfterSeconds);
  if (fault.action === 'fail') return answerFault(res, fault);
  if (!deps.isAuthorized(req.headers.authorization)) return answerJson(res, 401, unauthorized());
  if (!body.ok) return body.reason === 'too_large' ? answerProxyPage(res, 413, 'Request Entity Too Large') : undefined;

  const parsed = parseSendRequest(body.text);
  if (!parsed.ok) return answerJson(res, 400, parsed.error);
  const context = {
    nextId: deps.nextId,
    nextUuid: deps.nextUuid,
    failDomain: fault.failDomain,
    refusedSenderDomain: fault.refusedSenderDomain,
  };
  const outcome = sendBatch(parsed.request, context, isoNow());
  for (const message of outcome.accepted) deps.store.add(message);
  answerJsonText(res, outcome.status, outcome.body);
}

function answerFault(res: ServerResponse, { status, retryAfterSeconds }: FaultDecision): void {
  if (status === 429) setRetryAfter(res, retryAfterSeconds);
  if (status === 500) answerJson(res, 500, internalServerError());
  else answerProxyPage(res, status, FAULT_REASONS[status]);
}

/** Mailjet's rate limiter answers plain text, not JSON: a client must not expect an error body. */
function answerRateLimited(res: ServerResponse, retryAfterSeconds: number | null): void {
  setRetryAfter(res, retryAfterSeconds);
  answerText(res, 429, 'Too Many Requests: API call rate limit exceeded\n', 'text/plain; charset=utf-8');
}
