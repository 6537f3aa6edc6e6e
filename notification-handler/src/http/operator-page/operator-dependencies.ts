import type { Topology } from '@notify/shared';
import type { Logger } from '@notify/shared/platform';
import type { HandlerConfig } from '../../config.js';
import type { ReplayDeps } from '../../domain/replay-notification.js';
import { type BrokerInspector, createBrokerInspector, type QueueDepth } from '../../messaging/broker-inspector.js';
import { createDeadLetterQueue, type DeadLetterQueue } from '../../messaging/dead-letter-queue.js';
import { type OutboxBacklog, readOutboxBacklog } from '../../ticketing/outbox-backlog.js';
import { createOperatorAccess, type OperatorAccess } from '../operator-auth/operator-access.js';
import type { WrongTokenLimit } from '../operator-auth/wrong-token-limit.js';

/** What the operator page and the guards need beyond the status API's dependencies. */
export type OperatorDependencies = {
  access: OperatorAccess;
  wrongTokenLimit: WrongTokenLimit;
  queues: { work: string; deadLetter: string };
  queueDepth: (queue: string) => Promise<QueueDepth>;
  deadLetters: DeadLetterQueue;
  /** Absent when TICKETING_METRICS_URL is not set. */
  outboxBacklog?: () => Promise<OutboxBacklog>;
};

/** A look at the broker or the ticketing service never holds the page longer than this. */
const LOOK_TIMEOUT_MS = 2_000;

/** Built by the composition root; `inspector.attach` belongs in the broker's setup. */
export function operatorDependencies(
  config: HandlerConfig,
  topology: Topology,
  requeue: ReplayDeps['requeue'],
  log: Logger,
): OperatorDependencies & { inspector: BrokerInspector } {
  if (config.OPERATOR_TOKEN === undefined) {
    log.warn(
      { host: config.HOST },
      'NO OPERATOR_TOKEN SET: the status API and the operator page are open to anyone who reaches this loopback address',
    );
  }
  const inspector = createBrokerInspector(log);
  const metricsUrl = config.TICKETING_METRICS_URL;
  return {
    inspector,
    access: createOperatorAccess({ token: config.OPERATOR_TOKEN }),
    wrongTokenLimit: { attempts: config.OPERATOR_WRONG_TOKEN_LIMIT, windowMs: config.OPERATOR_WRONG_TOKEN_WINDOW_MS },
    queues: { work: topology.queue, deadLetter: topology.deadLetterQueue },
    queueDepth: (queue) => inspector.queueDepth(queue, LOOK_TIMEOUT_MS),
    // An action waits for its replay's publisher confirm, within the same bound as any publish.
    deadLetters: createDeadLetterQueue({
      inspector,
      queue: topology.deadLetterQueue,
      requeue,
      timeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS + LOOK_TIMEOUT_MS,
    }),
    ...(metricsUrl ? { outboxBacklog: () => readOutboxBacklog(metricsUrl, LOOK_TIMEOUT_MS) } : {}),
  };
}
