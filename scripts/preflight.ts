// npm start, step 1: RabbitMQ and PostgreSQL must answer before anything is built or started.
import { redactUrl } from '@notify/shared/platform';
import amqp from 'amqplib';
import pg from 'pg';
import { loadDotEnv } from './dot-env.js';

const TIMEOUT_MS = 3_000;

type Check = { name: string; variable: string; url: string; probe: (url: string) => Promise<void> };

loadDotEnv();
const checks: Check[] = [
  {
    name: 'RabbitMQ',
    variable: 'AMQP_URL',
    url: process.env.AMQP_URL || 'amqp://guest:guest@localhost:5672',
    probe: probeBroker,
  },
  {
    name: 'PostgreSQL',
    variable: 'DATABASE_URL',
    url: process.env.DATABASE_URL || 'postgres://postgres@localhost:5432/postgres',
    probe: probeDatabase,
  },
];

const failures = (await Promise.all(checks.map(describeFailure))).filter((line) => line !== undefined);
if (failures.length > 0) {
  console.error(
    [
      ...failures,
      '',
      'npm start needs both. To get them:',
      '  - run them locally: RabbitMQ on localhost:5672 (user guest, password guest) and PostgreSQL on',
      '    localhost:5432 (user postgres, trust or a password in DATABASE_URL);',
      '  - or, with Docker: docker compose up -d --wait rabbitmq postgres',
      '  - or point AMQP_URL and DATABASE_URL (environment or .env) at servers that answer.',
    ].join('\n'),
  );
  process.exit(1);
}

async function describeFailure({ name, variable, url, probe }: Check): Promise<string | undefined> {
  try {
    await probe(url);
    return undefined;
  } catch (error) {
    const where = url.split(',').map(redactUrl).join(',');
    return `Could not connect to ${name} at ${where} (${variable}): ${connectionErrorText(error)}`;
  }
}

/** AMQP_URL may list the nodes of a cluster: one answering is enough, as for the services. */
async function probeBroker(urls: string): Promise<void> {
  const attempts = urls.split(',').map(async (url) => {
    const connection = await amqp.connect(url.trim(), { timeout: TIMEOUT_MS });
    connection.on('error', () => undefined);
    await connection.close();
  });
  await Promise.any(attempts);
}

async function probeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

function connectionErrorText(error: unknown): string {
  // Connection refusals from dual-stack hosts come as an AggregateError with an empty message.
  if (error instanceof AggregateError && error.errors.length > 0) return connectionErrorText(error.errors[0]);
  const text = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : error;
  return redactUrl(String(text));
}
