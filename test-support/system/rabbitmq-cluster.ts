import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '../wait.js';
import { createRabbitNode, type RabbitNode, stopLeftoverNodes } from './rabbitmq-node.js';

const run = promisify(execFile);

/** Shared by every run in this worktree: a cluster whose run was killed is found here by the next one. */
export const CLUSTER_MARKER_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../test-results/rabbit-cluster-nodes',
);

export type RabbitClusterOptions = {
  /** Nodes (3 by default). */
  size?: number;
  /** Part of each node's name: `<label>-<n>@localhost`; unique per cluster by default. */
  label?: string;
  markerDir?: string;
  startTimeoutMs?: number;
};

export type QueueReplicas = { name: string; leader: string; members: string[]; online: string[] };

export type RabbitCluster = {
  nodes: RabbitNode[];
  /** One AMQP URL per node, in node order: what the services get as AMQP_URL (joined with commas). */
  amqpUrls: string[];
  /** Running nodes, as the given node (the first running one by default) sees the cluster. */
  runningNodes: (asSeenBy?: RabbitNode) => Promise<string[]>;
  /**
   * A quorum queue's leader and members (`rabbitmqctl list_queues name leader members online`), as
   * the given node (the first running one by default) sees them: ask a live one while one is frozen.
   */
  replicas: (queue: string, asSeenBy?: RabbitNode) => Promise<QueueReplicas | undefined>;
  node: (nodeName: string) => RabbitNode;
  /** Stops every node and deletes their folders, the cookie and the markers. */
  destroy: () => Promise<void>;
};

/**
 * A RabbitMQ cluster of its own on this machine: `size` nodes (rabbitmq-node.ts: own names, free
 * AMQP and distribution ports, own config and data), one Erlang cookie of its own for the nodes and
 * every CLI call, the others joined to the first (`join_cluster`), started once `cluster_status`
 * lists every node. Before it starts, it stops any cluster node a killed run left behind.
 */
export async function startRabbitCluster(options: RabbitClusterOptions = {}): Promise<RabbitCluster> {
  const markerDir = options.markerDir ?? CLUSTER_MARKER_DIR;
  await stopLeftoverNodes(markerDir, { onlyOrphans: true });
  const size = options.size ?? 3;
  const label = options.label ?? `cluster-${randomBytes(3).toString('hex')}`;
  const cookieHome = await createCookieHome();
  const nodes: RabbitNode[] = [];
  const destroy = async () => {
    // A node a scenario left frozen (SIGSTOP) would never answer its stop.
    for (const node of nodes) signal(node, 'SIGCONT');
    const results = await Promise.allSettled(nodes.map((node) => node.destroy()));
    rmSync(cookieHome, { recursive: true, force: true });
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0)
      throw new AggregateError(
        failed.map((result) => result.reason),
        'stopping the cluster failed',
      );
  };
  try {
    for (let index = 1; index <= size; index += 1) {
      nodes.push(
        await createRabbitNode({
          nodeName: `${label}-${index}@localhost`,
          markerDir,
          cookieHome,
          startTimeoutMs: options.startTimeoutMs,
        }),
      );
    }
    await Promise.all(nodes.map((node) => node.start()));
    const [seed, ...others] = nodes as [RabbitNode, ...RabbitNode[]];
    for (const node of others) await joinCluster(node, seed);
    const cluster = clusterOf(nodes, destroy);
    const everyNode = nodes.map((node) => node.nodeName).sort();
    await waitFor(
      async () => {
        const running = (await cluster.runningNodes(seed)).sort();
        return JSON.stringify(running) === JSON.stringify(everyNode) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `cluster_status to list ${everyNode.join(', ')}` },
    );
    return cluster;
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }
}

function clusterOf(nodes: RabbitNode[], destroy: () => Promise<void>): RabbitCluster {
  const firstRunning = () => nodes.find((node) => node.running) ?? (nodes[0] as RabbitNode);
  return {
    nodes,
    amqpUrls: nodes.map((node) => node.amqpUrl),
    runningNodes: async (asSeenBy = firstRunning()) => {
      const status = JSON.parse(
        await asSeenBy.tool('rabbitmqctl', ['-n', asSeenBy.nodeName, 'cluster_status', '--formatter', 'json'], 30_000),
      ) as { running_nodes?: string[] };
      return status.running_nodes ?? [];
    },
    replicas: async (queue, node = firstRunning()) => {
      const args = [
        '-n',
        node.nodeName,
        'list_queues',
        '-q',
        '--formatter',
        'json',
        'name',
        'leader',
        'members',
        'online',
      ];
      const queues = JSON.parse(await node.tool('rabbitmqctl', args, 30_000)) as QueueReplicas[];
      return queues.find((candidate) => candidate.name === queue);
    },
    node: (nodeName) => {
      const found = nodes.find((node) => node.nodeName === nodeName);
      if (!found) throw new Error(`no node ${nodeName} in this cluster`);
      return found;
    },
    destroy,
  };
}

/** A fresh node joins the seed's cluster: stop its app, join, start it again. */
async function joinCluster(node: RabbitNode, seed: RabbitNode): Promise<void> {
  await node.tool('rabbitmqctl', ['-n', node.nodeName, 'stop_app']);
  await node.tool('rabbitmqctl', ['-n', node.nodeName, 'join_cluster', seed.nodeName]);
  await node.tool('rabbitmqctl', ['-n', node.nodeName, 'start_app']);
}

/**
 * The HOME every node and CLI call of the cluster runs with: its `.erlang.cookie` (owner-only, as
 * Erlang demands) is what lets them talk to each other and to nobody else on the machine.
 */
async function createCookieHome(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'notify-rabbit-cookie-'));
  const cookie = join(home, '.erlang.cookie');
  writeFileSync(cookie, randomBytes(24).toString('hex').toUpperCase());
  chmodSync(cookie, 0o400);
  await run('chown', ['-R', 'rabbitmq:rabbitmq', home]);
  return home;
}

/** Sends a signal to a node's Erlang process, if it is running. */
export function signal(node: RabbitNode, name: NodeJS.Signals): void {
  const pid = node.pid();
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}
