import { OPERATIONS, type Operation } from './notification-message.js';

/**
 * Broker names. The defaults are a public contract: other producers publish to this exchange with
 * these routing keys. A prefix lets tests and benchmarks run beside production names on one broker.
 */
export type Topology = {
  exchange: string;
  queue: string;
  deadLetterExchange: string;
  deadLetterQueue: string;
  routingKeys: readonly Operation[];
};

/** The handler's default wait before each delayed retry (REDELIVERY_DELAYS_MS): one delay queue each. */
export const DEFAULT_REDELIVERY_DELAYS_MS: readonly number[] = [30_000, 120_000, 600_000, 1_800_000, 3_600_000];

/**
 * The queue a delayed retry waits in: named by its wait, so that a changed schedule gets new queues
 * instead of a redeclaration RabbitMQ would refuse.
 */
export function delayQueueName(topology: Pick<Topology, 'queue'>, delayMs: number): string {
  return `${topology.queue}.delay.${delayMs}ms`;
}

export function topologyNames(prefix = ''): Topology {
  return {
    exchange: `${prefix}ticketing.events`,
    queue: `${prefix}notifications.email`,
    deadLetterExchange: `${prefix}notifications.email.dlx`,
    deadLetterQueue: `${prefix}notifications.email.dead`,
    routingKeys: OPERATIONS,
  };
}

export const DEFAULT_TOPOLOGY: Topology = topologyNames();
