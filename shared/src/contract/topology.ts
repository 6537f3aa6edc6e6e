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
