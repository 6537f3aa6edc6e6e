import type { AppDependencies } from '../../app.js';
import { countByStatus, type StatusCounts } from '../../db/operator-queries.js';
import type { QueueDepth } from '../../messaging/broker-inspector.js';
import type { OutboxBacklog } from '../../ticketing/outbox-backlog.js';

/** A figure the page could read, or why it could not: one missing source never hides the others. */
export type Known<T> = { ok: true; value: T } | { ok: false; reason: string };

export type Overview = {
  counts: Known<StatusCounts>;
  workQueue: Known<QueueDepth>;
  deadLetterQueue: Known<QueueDepth>;
  outbox: Known<OutboxBacklog>;
  breaker: Record<string, string>;
  pausedBy: string[];
};

export async function readOverview({ db, operator, describeHealth, log }: AppDependencies): Promise<Overview> {
  const outbox = operator.outboxBacklog;
  const [counts, workQueue, deadLetterQueue, backlog] = await Promise.all([
    known(() => countByStatus(db)),
    known(() => operator.queueDepth(operator.queues.work)),
    known(() => operator.queueDepth(operator.queues.deadLetter)),
    outbox ? known(outbox) : ({ ok: false, reason: 'TICKETING_METRICS_URL is not set' } as const),
  ]);
  for (const [source, figure] of Object.entries({ counts, workQueue, deadLetterQueue })) {
    if (!figure.ok) log.warn({ source, reason: figure.reason }, 'operator overview: a figure is unknown');
  }
  return { counts, workQueue, deadLetterQueue, outbox: backlog, ...describeHealth() };
}

async function known<T>(read: () => Promise<T>): Promise<Known<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
