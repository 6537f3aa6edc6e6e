import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { chooseInfrastructure } from './infrastructure.js';
import { stopLeftoverPostgresNodes } from './system/postgres-node.js';
import { stopLeftoverNodes, TEST_NODE_MARKER_DIR } from './system/rabbitmq-node.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const infrastructure = await chooseInfrastructure(process.env);
  const runId = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const databaseName = `notify_${runId}`;
  await adminQuery(infrastructure.adminDatabaseUrl, `CREATE DATABASE ${databaseName}`);
  console.log(`[integration] ${infrastructure.description}; run ${runId}, database ${databaseName}`);

  project.provide('amqpUrl', infrastructure.amqpUrl);
  project.provide('databaseUrl', withDatabase(infrastructure.adminDatabaseUrl, databaseName));
  project.provide('runId', runId);

  return async () => {
    try {
      // Private servers (system/postgres-node.ts, system/rabbitmq-node.ts) a crashed test file left running.
      await stopLeftoverPostgresNodes();
      await stopLeftoverNodes(TEST_NODE_MARKER_DIR, { onlyOrphans: true });
      await adminQuery(infrastructure.adminDatabaseUrl, `DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    } finally {
      await infrastructure.stop();
    }
  };
}

function withDatabase(url: string, databaseName: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${databaseName}`;
  return parsed.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
