import { type RabbitCluster, startRabbitCluster } from '@notify/test-support/system/rabbitmq-cluster.js';
import type { System, SystemOptions } from '@notify/test-support/system/system.js';
import { inject } from 'vitest';
import { startScenarioSystem } from './scenario.js';

/** The cluster scenarios (2x-*): two of each service, competing on the queue and sharing the outbox. */
export const CLUSTER_INSTANCES = { handlers: 2, ticketingInstances: 2 };

/**
 * Heartbeats every 5 s: a client whose node froze (SIGSTOP keeps its sockets open) notices after
 * 10-15 s and moves to another node, instead of 20-30 s at the services' default of 10 s.
 */
const HEARTBEAT_SECONDS = 5;

export type ClusterScenario = { cluster: RabbitCluster; system: System; stop: () => Promise<void> };

/**
 * A three-node RabbitMQ cluster of the scenario's own (rabbitmq-cluster.ts; the machine's broker is
 * never touched) and the system on it: every service instance is given all three nodes.
 */
export async function startClusterScenario(
  label: string,
  options: Partial<SystemOptions> = {},
): Promise<ClusterScenario> {
  const cluster = await startRabbitCluster({ label: `${inject('runId')}-${label}` });
  try {
    const system = await startScenarioSystem(label, {
      amqpUrl: cluster.amqpUrls[0] as string,
      brokerUrls: cluster.amqpUrls.map((url) => `${url}?heartbeat=${HEARTBEAT_SECONDS}`),
      ...CLUSTER_INSTANCES,
      ...options,
    });
    return {
      cluster,
      system,
      stop: async () => {
        try {
          await system.stop();
        } finally {
          await cluster.destroy();
        }
      },
    };
  } catch (error) {
    await cluster.destroy().catch(() => undefined);
    throw error;
  }
}

/** Messages the handlers may hold unacked at once: what a crash can send a second time, at most. */
export function inFlightBound(system: System): number {
  return Number(system.env.handler.PREFETCH) * system.handlers.length;
}

/** The work queue's leader node, and every member, as the cluster sees them now. */
export async function workQueueLeader(
  cluster: RabbitCluster,
  system: System,
): Promise<{ leader: string; members: string[] }> {
  const replicas = await cluster.replicas(system.topology.queue);
  if (!replicas) throw new Error(`the cluster has no queue ${system.topology.queue}`);
  return { leader: replicas.leader, members: replicas.members };
}
