import amqp from 'amqplib';
import pg from 'pg';

export type Infrastructure = {
  amqpUrl: string;
  /** A database the run may create other databases from. */
  adminDatabaseUrl: string;
  description: string;
  stop: () => Promise<void>;
};

const LOCAL_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const NO_INFRASTRUCTURE_MESSAGE = [
  'Integration tests need RabbitMQ and PostgreSQL, and found neither way to get them:',
  '  1. set AMQP_URL and DATABASE_URL (for instance amqp://guest:guest@localhost:5672 and postgres://postgres@localhost:5432/postgres);',
  '  2. or run a Docker engine: testcontainers then starts RabbitMQ and PostgreSQL for the run;',
  '  3. or run RabbitMQ on localhost:5672 (guest/guest) and PostgreSQL on localhost:5432 (user postgres).',
].join('\n');

/** Where to look besides the environment; tests of this module point them at nothing. */
export type Fallbacks = {
  dockerAnswers: () => Promise<boolean>;
  local: { amqpUrl: string; databaseUrl: string };
};

const DEFAULT_FALLBACKS: Fallbacks = {
  dockerAnswers,
  local: { amqpUrl: LOCAL_AMQP_URL, databaseUrl: LOCAL_DATABASE_URL },
};

/** The order is the documented one: explicit URLs, then Docker, then local default ports. */
export async function chooseInfrastructure(
  env: NodeJS.ProcessEnv,
  { dockerAnswers, local }: Fallbacks = DEFAULT_FALLBACKS,
): Promise<Infrastructure> {
  if (env.AMQP_URL && env.DATABASE_URL) {
    await requireReachable(env.AMQP_URL, env.DATABASE_URL, 'AMQP_URL and DATABASE_URL');
    return {
      amqpUrl: env.AMQP_URL,
      adminDatabaseUrl: env.DATABASE_URL,
      description: 'RabbitMQ and PostgreSQL from AMQP_URL and DATABASE_URL',
      stop: async () => undefined,
    };
  }
  if (await dockerAnswers()) return startContainers();
  if ((await amqpAnswers(local.amqpUrl)) && (await databaseAnswers(local.databaseUrl))) {
    return {
      amqpUrl: local.amqpUrl,
      adminDatabaseUrl: local.databaseUrl,
      description: 'RabbitMQ on localhost:5672 and PostgreSQL on localhost:5432 (no URLs set, no Docker engine)',
      stop: async () => undefined,
    };
  }
  throw new Error(NO_INFRASTRUCTURE_MESSAGE);
}

async function requireReachable(amqpUrl: string, databaseUrl: string, origin: string): Promise<void> {
  const [amqpOk, databaseOk] = await Promise.all([amqpAnswers(amqpUrl), databaseAnswers(databaseUrl)]);
  if (amqpOk && databaseOk) return;
  const down = [amqpOk ? undefined : 'RabbitMQ', databaseOk ? undefined : 'PostgreSQL'].filter(Boolean);
  throw new Error(`${down.join(' and ')} did not answer at the URLs given by ${origin}.\n${NO_INFRASTRUCTURE_MESSAGE}`);
}

async function amqpAnswers(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 3_000 });
    connection.on('error', () => undefined);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Connects and runs `SELECT 1` within a few seconds; any failure is a no. */
export async function databaseAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dockerAnswers(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<Infrastructure> {
  const [{ RabbitMQContainer }, { PostgreSqlContainer }] = await Promise.all([
    import('@testcontainers/rabbitmq'),
    import('@testcontainers/postgresql'),
  ]);
  // Images match docker-compose.yml, so tests see the versions the system runs on.
  const [rabbit, postgres] = await Promise.all([
    new RabbitMQContainer('rabbitmq:3.13-management-alpine').start(),
    new PostgreSqlContainer('postgres:16-alpine').start(),
  ]);
  return {
    amqpUrl: rabbit.getAmqpUrl(),
    adminDatabaseUrl: postgres.getConnectionUri(),
    description: 'RabbitMQ and PostgreSQL in containers started by testcontainers',
    stop: async () => {
      await Promise.allSettled([rabbit.stop(), postgres.stop()]);
    },
  };
}
