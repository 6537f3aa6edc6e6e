import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { chooseInfrastructure } from './infrastructure.js';
import { createDatabase, dropDatabase } from './system/database.js';
import { stopLeftoverPostgresNodes } from './system/postgres-node.js';
import { stopLeftoverNodes, TEST_NODE_MARKER_DIR } from './system/rabbitmq-node.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const infrastructure = await chooseInfrastructure(process.env);
  const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const databaseName = `notify_${runId}`;
  // Through test-support's admin client, which listens for its connection's errors: this runs in
  // vitest's own process, where an unheard 'error' (the server ending the session, say) would end
  // the run with exit code 1 after every test passed.
  const databaseUrl = await createDatabase(infrastructure.adminDatabaseUrl, databaseName);
  console.log(`[integration] ${infrastructure.description}; run ${runId}, database ${databaseName}`);

  project.provide('amqpUrl', infrastructure.amqpUrl);
  project.provide('databaseUrl', databaseUrl);
  project.provide('runId', runId);

  return async () => {
    try {
      // Private servers (system/postgres-node.ts, system/rabbitmq-node.ts) a crashed test file left running.
      await stopLeftoverPostgresNodes();
      await stopLeftoverNodes(TEST_NODE_MARKER_DIR, { onlyOrphans: true });
      await dropDatabase(infrastructure.adminDatabaseUrl, databaseName);
    } finally {
      await infrastructure.stop();
    }
  };
}
