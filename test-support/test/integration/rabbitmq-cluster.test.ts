import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { portAnswers } from '../../system/ports.js';
import { type RabbitCluster, startRabbitCluster } from '../../system/rabbitmq-cluster.js';
import { createRabbitNode } from '../../system/rabbitmq-node.js';

// Three nodes start in 20-40 s on two busy cores.
const SLOW = { timeout: 240_000 };

describe('startRabbitCluster', () => {
  const markerDir = mkdtempSync(join(tmpdir(), 'notify-cluster-markers-'));
  let cluster: RabbitCluster | undefined;

  afterAll(async () => {
    await cluster?.destroy();
    rmSync(markerDir, { recursive: true, force: true });
  }, 120_000);

  it(
    'When a cluster starts, then it first stops a node left by a run that died, and cluster_status lists its three nodes',
    SLOW,
    async () => {
      const leftover = await createRabbitNode({ markerDir });
      await leftover.start();
      orphan(markerDir, leftover.nodeName);

      cluster = await startRabbitCluster({ markerDir });

      expect(await portAnswers(leftover.port)).toBe(false);
      expect((await cluster.runningNodes()).sort()).toEqual(cluster.nodes.map((node) => node.nodeName).sort());
      expect(cluster.amqpUrls).toHaveLength(3);
      expect(readdirSync(markerDir).filter((file) => file.startsWith(leftover.nodeName))).toEqual([]);
    },
  );

  it(
    'When a quorum queue is declared without a group size, then each of the three nodes holds a replica',
    SLOW,
    async () => {
      const live = cluster as RabbitCluster;
      const queue = `cluster-test.${process.pid}.replicas`;
      const connection = await amqp.connect(live.amqpUrls[1] as string, { timeout: 5_000 });
      connection.on('error', () => undefined);
      try {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });

        const replicas = await live.replicas(queue);

        expect(replicas?.members.sort()).toEqual(live.nodes.map((node) => node.nodeName).sort());
        expect(live.nodes.map((node) => node.nodeName)).toContain(replicas?.leader);
        await channel.deleteQueue(queue);
      } finally {
        await connection.close().catch(() => undefined);
      }
    },
  );

  it('When the cluster is destroyed, then no node answers and its markers are gone', SLOW, async () => {
    const live = cluster as RabbitCluster;

    await live.destroy();
    cluster = undefined;

    for (const node of live.nodes) expect(await portAnswers(node.port)).toBe(false);
    expect(readdirSync(markerDir)).toEqual([]);
  });
});

/** Rewrites a node's marker as if the process that started it had died. */
function orphan(markerDir: string, nodeName: string): void {
  const path = join(markerDir, `${nodeName}.json`);
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ownerPid: dead }));
}
