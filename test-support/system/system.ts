import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Topology, topologyNames } from '@notify/shared';
import type pg from 'pg';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { waitFor } from '../wait.js';
import { deleteTopology } from './broker-tools.js';
import { createDatabase, dropDatabase, hostPortOf, openChecksPool, withHostPort } from './database.js';
import { freePort } from './ports.js';
import { type PostgresNode, startPostgresNode } from './postgres-node.js';
import { type SandboxClient, sandboxClient } from './sandbox-client.js';
import { ServiceProcess } from './service-process.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Handler settings that make recovery quick: a handler killed mid-send holds its rows for
 * (RETRY_MAX_RETRIES+1)*MAILJET_TIMEOUT_MS + RETRY_MAX_RETRIES*RETRY_DELAY_MS + 5 s (11.3 s here).
 */
export const FAST_RECOVERY_HANDLER_ENV = {
  PREFETCH: '20',
  MAILJET_TIMEOUT_MS: '1500',
  RETRY_MAX_RETRIES: '3',
  RETRY_DELAY_MS: '100',
  SHUTDOWN_TIMEOUT_MS: '10000',
};

export type SystemOptions = {
  /** Names the topology prefix, the database and the log folder: [a-z0-9-]. */
  label: string;
  /** The broker and the server to create the system's database on (see `chooseInfrastructure`). */
  amqpUrl: string;
  /** Not used with `privatePostgres`. */
  adminDatabaseUrl: string;
  /**
   * Run on a PostgreSQL server of the system's own (postgres-node.ts: free port, temp folder),
   * started with the system and deleted by `stop()`, so that a scenario can stop the server itself
   * (`System.postgres`) without touching the machine's.
   */
  privatePostgres?: boolean;
  /** Put a TCP proxy (test-support/tcp-proxy.ts) between both services and RabbitMQ / PostgreSQL. */
  proxies?: { broker?: boolean; database?: boolean };
  /** Merged over FAST_RECOVERY_HANDLER_ENV and the URLs, ports and prefix the harness sets. */
  handlerEnv?: Record<string, string>;
  ticketingEnv?: Record<string, string>;
  sandboxEnv?: Record<string, string>;
  /** Raw logs of each process: `<logDir>/<name>.log`. Default `test-results/system/<label>-<id>`. */
  logDir?: string;
  /** Bounds each process's start until ready. */
  readyTimeoutMs?: number;
};

export type System = {
  /** Unique per system: part of the prefix and of the database name. */
  id: string;
  prefix: string;
  topology: Topology;
  databaseName: string;
  /** Direct URLs (never through a proxy): what checks and tools use. */
  databaseUrl: string;
  amqpUrl: string;
  /** The system's own server with `privatePostgres` (stop() and start() it as a fault); else undefined. */
  postgres: PostgresNode | undefined;
  /** What the services were given: the proxies' URLs when there are proxies. */
  serviceAmqpUrl: string;
  serviceDatabaseUrl: string;
  brokerProxy: TcpProxy | undefined;
  databaseProxy: TcpProxy | undefined;
  sandbox: ServiceProcess;
  mailjet: SandboxClient;
  ticketing: ServiceProcess;
  handler: ServiceProcess;
  /** The three processes, in start order. */
  processes: ServiceProcess[];
  sandboxUrl: string;
  ticketingUrl: string;
  handlerUrl: string;
  /** The env each service process got (after merging), e.g. to read PREFETCH back. */
  env: { handler: Record<string, string>; ticketing: Record<string, string>; sandbox: Record<string, string> };
  logDir: string;
  /** A pool on the system's database (direct), for checks; it errs while the server is down, then works again. */
  db: pg.Pool;
  /**
   * Stops every process (SIGTERM, then SIGKILL), closes proxies, deletes the topology, drops the
   * database (or, with `privatePostgres`, stops the server and deletes its folder).
   */
  stop: () => Promise<void>;
};

/**
 * The whole system as real processes from their built entry points (`npm run build` first): the
 * Mailjet sandbox, the notification handler and the ticketing service, on free loopback ports,
 * with a topology prefix and a database of their own. Resolves once all three are ready and the
 * ticketing service's relay is connected to the broker.
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const label = options.label.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const prefix = `sys.${label}.${id}.`;
  const topology = topologyNames(prefix);
  const databaseName = `notify_${label.replace(/-/g, '_')}_${id}`.slice(0, 63);
  const logDir = options.logDir ?? join(REPO_ROOT, 'test-results', 'system', `${label}-${id}`);
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => errors.push(error));
    cleanups.length = 0;
    if (errors.length > 0) throw new AggregateError(errors, `stopping system ${label}-${id} failed`);
  };

  try {
    const postgres = options.privatePostgres ? await startPostgresNode() : undefined;
    // A private server goes with its folder: no database to drop, and it may be stopped by then.
    if (postgres) {
      cleanups.push(async () => {
        try {
          // Its log is in the folder dispose() deletes: keep it with the processes' logs.
          mkdirSync(logDir, { recursive: true });
          cpSync(join(postgres.dir, 'server.log'), join(logDir, 'postgres.log'));
        } finally {
          await postgres.dispose();
        }
      });
    }
    const adminDatabaseUrl = postgres?.url ?? options.adminDatabaseUrl;
    const databaseUrl = await createDatabase(adminDatabaseUrl, databaseName);
    if (!postgres) cleanups.push(() => dropDatabase(adminDatabaseUrl, databaseName));
    const db = openChecksPool(databaseUrl);
    cleanups.push(() => db.end());
    cleanups.push(() =>
      deleteTopology(options.amqpUrl, topology, { delaysMs: delaysOf(options.handlerEnv?.REDELIVERY_DELAYS_MS) }),
    );

    const brokerProxy = options.proxies?.broker ? await proxyFor(options.amqpUrl, 5672) : undefined;
    const databaseProxy = options.proxies?.database ? await proxyFor(databaseUrl, 5432) : undefined;
    for (const proxy of [brokerProxy, databaseProxy]) if (proxy) cleanups.push(() => proxy.close());
    const serviceAmqpUrl = brokerProxy
      ? withHostPort(options.amqpUrl, brokerProxy.host, brokerProxy.port)
      : options.amqpUrl;
    const serviceDatabaseUrl = databaseProxy
      ? withHostPort(databaseUrl, databaseProxy.host, databaseProxy.port)
      : databaseUrl;

    const [sandboxPort, handlerPort, ticketingPort] = [await freePort(), await freePort(), await freePort()];
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const handlerUrl = `http://127.0.0.1:${handlerPort}`;
    const ticketingUrl = `http://127.0.0.1:${ticketingPort}`;
    const common = { LOG_FORMAT: 'json', LOG_LEVEL: 'info', TOPOLOGY_PREFIX: prefix };
    const env = {
      // The store must hold every message of a run: duplicates are counted from it.
      sandbox: {
        PORT: String(sandboxPort),
        HOST: '127.0.0.1',
        SANDBOX_MAX_STORED: '1000000',
        SANDBOX_MAX_STORED_BYTES: String(8 * 1024 ** 3),
        ...options.sandboxEnv,
      },
      handler: {
        ...common,
        ...FAST_RECOVERY_HANDLER_ENV,
        AMQP_URL: serviceAmqpUrl,
        DATABASE_URL: serviceDatabaseUrl,
        PORT: String(handlerPort),
        MAILJET_API_URL: sandboxUrl,
        MAILJET_API_KEY: 'sandbox-key',
        MAILJET_API_SECRET: 'sandbox-secret',
        // Used when EMAIL_PROVIDERS names SendGrid: the same sandbox's SendGrid endpoint.
        SENDGRID_API_URL: sandboxUrl,
        SENDGRID_API_KEY: 'SG.sandbox-key',
        ...options.handlerEnv,
      },
      ticketing: {
        ...common,
        AMQP_URL: serviceAmqpUrl,
        DATABASE_URL: serviceDatabaseUrl,
        PORT: String(ticketingPort),
        SHUTDOWN_TIMEOUT_MS: '10000',
        ...options.ticketingEnv,
      },
    };
    const service = (name: string, entry: string, processEnv: Record<string, string>, ready: () => Promise<boolean>) =>
      new ServiceProcess({
        name,
        entry: join(REPO_ROOT, entry),
        cwd: REPO_ROOT,
        env: processEnv,
        isReady: ready,
        readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
        logFile: join(logDir, `${name}.log`),
      });
    const sandbox = service('sandbox', 'mailjet-sandbox/dist/main.js', env.sandbox, () =>
      answers(`${sandboxUrl}/sandbox/faults`),
    );
    const handler = service('handler', 'notification-handler/dist/main.js', env.handler, () =>
      answers(`${handlerUrl}/readyz`),
    );
    const ticketing = service('ticketing', 'ticketing-service/dist/main.js', env.ticketing, () =>
      answers(`${ticketingUrl}/readyz`),
    );
    const processes = [sandbox, handler, ticketing];
    cleanups.push(async () => {
      // Newest first: the ticketing service, then the handler (it drains), then the sandbox.
      for (const child of [...processes].reverse()) await child.dispose();
    });

    await sandbox.start();
    // The handler declares the queue: started first, the relay's first messages are routable.
    await handler.start();
    await ticketing.start();
    await waitFor(
      async () => {
        const response = await fetch(`${ticketingUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
        return ((await response.json()) as { broker?: string }).broker === 'up' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the ticketing service to reach the broker' },
    );

    return {
      id,
      prefix,
      topology,
      databaseName,
      databaseUrl,
      postgres,
      amqpUrl: options.amqpUrl,
      serviceAmqpUrl,
      serviceDatabaseUrl,
      brokerProxy,
      databaseProxy,
      sandbox,
      mailjet: sandboxClient(sandboxUrl),
      ticketing,
      handler,
      processes,
      sandboxUrl,
      ticketingUrl,
      handlerUrl,
      env,
      logDir,
      db,
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}

async function proxyFor(url: string, defaultPort: number): Promise<TcpProxy> {
  const target = hostPortOf(url, defaultPort);
  return startTcpProxy({ targetHost: target.host, targetPort: target.port });
}

/** An HTTP GET that answered 200 within 2 s. */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The delays a REDELIVERY_DELAYS_MS setting names, for cleaning up their queues. */
function delaysOf(setting: string | undefined): number[] {
  return (setting ?? '')
    .split(',')
    .map(Number)
    .filter((ms) => Number.isInteger(ms) && ms > 0);
}
