import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FailStatus } from './fault-settings.js';
import type { FaultDecision } from './faults.js';
import type { SendStats } from './send-stats.js';

/** What both send endpoints share: how a call is counted, held open, and timestamped. */

/** The reason phrases of the proxy pages a failing status answers with (nginx's wording). */
export const FAULT_REASONS: Record<Exclude<FailStatus, 500>, string> = {
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** Hang and reset by their fault; the rest by the status answered (none if the client went away). */
export function countOutcome(stats: SendStats, fault: FaultDecision, res: ServerResponse): void {
  if (fault.action === 'hang') stats.onHang();
  else if (fault.action === 'reset') stats.onReset();
  else if (res.headersSent) stats.onAnswer(res.statusCode);
}

let lastMs = 0;
let lastIso = '';

/** Formatting a date is a measurable share of a small send: calls in the same millisecond share one. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/** Registered as the call arrives, so that a stop right after it still finds the socket to destroy. */
export function holdOpen(req: IncomingMessage, hung: Set<Socket>): void {
  const { socket } = req;
  hung.add(socket);
  socket.once('close', () => hung.delete(socket));
  req.resume();
}

export function setRetryAfter(res: ServerResponse, seconds: number | null): void {
  if (seconds !== null) res.setHeader('Retry-After', String(seconds));
}
