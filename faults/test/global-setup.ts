import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { chooseInfrastructure } from '@notify/test-support/infrastructure.js';
import { stopLeftoverPostgresNodes } from '@notify/test-support/system/postgres-node.js';
import { CLUSTER_MARKER_DIR } from '@notify/test-support/system/rabbitmq-cluster.js';
import { stopLeftoverNodes } from '@notify/test-support/system/rabbitmq-node.js';
import { REPO_ROOT } from '@notify/test-support/system/system.js';
import type { TestProject } from 'vitest/node';
import './support/context.js';

/** Picks RabbitMQ and PostgreSQL like the integration tests; each scenario makes its own database. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await reportLeftoverPostgresNodes();
  const infrastructure = await chooseInfrastructure(process.env);
  const runId = `f${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const rabbitMarkerDir = join(REPO_ROOT, 'test-results', 'faults-rabbit-nodes', runId);
  console.log(`[faults] ${infrastructure.description}; run ${runId}`);
  project.provide('amqpUrl', infrastructure.amqpUrl);
  project.provide('adminDatabaseUrl', infrastructure.adminDatabaseUrl);
  project.provide('runId', runId);
  project.provide('rabbitMarkerDir', rabbitMarkerDir);

  return async () => {
    try {
      // A scenario's own cleanup stops its node; this only catches one left behind by a crash.
      const stopped = await stopLeftoverNodes(rabbitMarkerDir);
      // Cluster nodes (2x-* scenarios) whose worker is gone without destroying them.
      stopped.push(...(await stopLeftoverNodes(CLUSTER_MARKER_DIR, { onlyOrphans: true })));
      if (stopped.length > 0) console.log(`[faults] stopped leftover RabbitMQ node(s): ${stopped.join(', ')}`);
      rmSync(rabbitMarkerDir, { recursive: true, force: true });
      await reportLeftoverPostgresNodes();
    } finally {
      await infrastructure.stop();
    }
  };
}

/** Private PostgreSQL servers (postgres-node.ts) whose run died before stopping them. */
async function reportLeftoverPostgresNodes(): Promise<void> {
  const stopped = await stopLeftoverPostgresNodes();
  if (stopped.length > 0) console.log(`[faults] stopped leftover PostgreSQL node(s) on port(s) ${stopped.join(', ')}`);
}
