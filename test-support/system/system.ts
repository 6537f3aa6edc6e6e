import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Topology, topologyNames } from '@notify/shared';
import { SERVICE_NODE_FLAGS } from '@notify/shared/platform';
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
const HANDLER_ENTRY = 'notification-handler/dist/main.js';
const TICKETING_ENTRY = 'ticketing-service/dist/main.js';
const SANDBOX_ENTRY = 'mailjet-sandbox/dist/main.js';

/**
 * Handler settings that make recovery quick: a handler killed mid-send holds its rows for a lease,
 * the larger of (RETRY_MAX_RETRIES+1)*MAILJET_TIMEOUT_MS + RETRY_MAX_RETRIES*RETRY_DELAY_MS + 5 s
 * and 4*(MAILJET_TIMEOUT_MS + 250 ms) + 5 s (12 s here).
 */
export const FAST_RECOVERY_HANDLER_ENV = {
  PREFETCH: '20',
  MAILJET_TIMEOUT_MS: '1500',
  // The same for SendGrid, in the scenarios that use it: the stop's drain must cover either's call.
  SENDGRID_TIMEOUT_MS: '1500',
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
  /**
   * Every node of a cluster (rabbitmq-cluster.ts): each service gets them all, comma-separated, as
   * AMQP_URL; `amqpUrl` (one of them) stays what checks and tools use. Not with `proxies.broker`.
   */
  brokerUrls?: string[];
  /** Handler processes (1 by default): they compete on the work queue. */
  handlers?: number;
  /** Ticketing processes (1 by default): they share the outbox; `ticketingUrls` lists them. */
  ticketingInstances?: number;
  /** Merged over FAST_RECOVERY_HANDLER_ENV and the URLs, ports and prefix the harness sets. */
  handlerEnv?: Record<string, string>;
  ticketingEnv?: Record<string, string>;
  sandboxEnv?: Record<string, string>;
  /** Raw logs of each process: `<logDir>/<name>.log`. Default `test-results/system/<label>-<id>`. */
  logDir?: string;
  /** false: the processes write straight into their log files, unread (ServiceProcess `readLines`). */
  readLines?: boolean;
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
  /** The first ticketing and handler processes (the only ones, unless options asked for more). */
  ticketing: ServiceProcess;
  handler: ServiceProcess;
  /** Every ticketing and handler process: `ticketing`, `ticketing-2`...; `handler`, `handler-2`... */
  ticketings: ServiceProcess[];
  handlers: ServiceProcess[];
  /** Every process, in start order (`addHandler` appends). */
  processes: ServiceProcess[];
  sandboxUrl: string;
  ticketingUrl: string;
  handlerUrl: string;
  /** Each process's base URL, by process name. */
  urls: Record<string, string>;
  ticketingUrls: string[];
  /** Starts one more handler (its own port, the first one's settings), e.g. mid-load; resolves once it is ready. */
  addHandler: () => Promise<ServiceProcess>;
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
      : (options.brokerUrls?.join(',') ?? options.amqpUrl);
    const serviceDatabaseUrl = databaseProxy
      ? withHostPort(databaseUrl, databaseProxy.host, databaseProxy.port)
      : databaseUrl;

    const [sandboxPort, handlerPort, ticketingPort] = [await freePort(), await freePort(), await freePort()];
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const common = { LOG_FORMAT: 'json', LOG_LEVEL: 'info', TOPOLOGY_PREFIX: prefix };
    const env = {
      // The store holds every message of a run, for the suites that read them whole; missing and
      // repeated emails are counted from the sandbox's tally, which counts every message anyway.
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
    const urls: Record<string, string> = {};
    const service = (name: string, entry: string, processEnv: Record<string, string>, readyPath: string) => {
      const url = `http://127.0.0.1:${processEnv.PORT}`;
      urls[name] = url;
      return new ServiceProcess({
        name,
        entry: join(REPO_ROOT, entry),
        // As their Dockerfiles and npm start run them; the sandbox is a test double.
        nodeFlags: entry === SANDBOX_ENTRY ? [] : SERVICE_NODE_FLAGS,
        cwd: REPO_ROOT,
        env: processEnv,
        isReady: () => answers(`${url}${readyPath}`),
        readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
        logFile: join(logDir, `${name}.log`),
        readLines: options.readLines,
      });
    };
    // The first instance of each keeps the plain name (and the ports above); others get -2, -3...
    const instanceEnv = async (base: Record<string, string>, index: number) =>
      index === 1 ? base : { ...base, PORT: String(await freePort()) };
    const nameOf = (kind: string, index: number) => (index === 1 ? kind : `${kind}-${index}`);
    const sandbox = service('sandbox', SANDBOX_ENTRY, env.sandbox, '/sandbox/faults');
    const newHandler = async (index: number) =>
      service(nameOf('handler', index), HANDLER_ENTRY, await instanceEnv(env.handler, index), '/readyz');
    const handlers: ServiceProcess[] = [];
    for (let index = 1; index <= (options.handlers ?? 1); index += 1) handlers.push(await newHandler(index));
    const ticketings: ServiceProcess[] = [];
    for (let index = 1; index <= (options.ticketingInstances ?? 1); index += 1) {
      const processEnv = await instanceEnv(env.ticketing, index);
      ticketings.push(service(nameOf('ticketing', index), TICKETING_ENTRY, processEnv, '/readyz'));
    }
    const processes = [sandbox, ...handlers, ...ticketings];
    cleanups.push(async () => {
      // Newest first: the ticketing services, then the handlers (they drain), then the sandbox.
      for (const child of [...processes].reverse()) await child.dispose();
    });

    await sandbox.start();
    // The handlers declare the queue: started first, the relays' first messages are routable.
    for (const handler of handlers) await handler.start();
    for (const ticketing of ticketings) {
      await ticketing.start();
      const url = urls[ticketing.name] as string;
      await waitFor(
        async () => {
          const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
          return ((await response.json()) as { broker?: string }).broker === 'up' ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${ticketing.name} to reach the broker` },
      );
    }
    const [handler, ticketing] = [handlers[0] as ServiceProcess, ticketings[0] as ServiceProcess];
    const addHandler = async () => {
      const added = await newHandler(handlers.length + 1);
      handlers.push(added);
      processes.push(added);
      await added.start();
      return added;
    };

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
      ticketings,
      handlers,
      processes,
      sandboxUrl,
      ticketingUrl: urls[ticketing.name] as string,
      handlerUrl: urls[handler.name] as string,
      urls,
      ticketingUrls: ticketings.map((instance) => urls[instance.name] as string),
      addHandler,
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
