import { fileURLToPath } from 'node:url';
import { topologyNames } from '@notify/shared';
import {
  Closers,
  ConfirmPublisher,
  connectBroker,
  createInFlight,
  createMetricsRegistry,
  createPool,
  createProbePool,
  endPool,
  type Logger,
  listen,
  type Maintenance,
  migrate,
  settledBefore,
  startMaintenance,
  warnIfAutovacuumOff,
} from '@notify/shared/platform';
import type { Registry } from 'prom-client';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { listenForOutboxRows } from './db/outbox-listener.js';
import { TICKETING_TABLES, ticketingMaintenance } from './db/ticketing-maintenance.js';
import { createCartCache } from './domain/cart-cache.js';
import { gatheredCartWrites } from './domain/cart-writes.js';
import { OutboxRelay } from './messaging/outbox-relay.js';
import { registerCartCacheMetrics } from './metrics/cart-cache-metrics.js';
import { registerLoadMetrics } from './metrics/load-metrics.js';
import { registerOutboxMetrics } from './metrics/outbox-metrics.js';
import { registerWriteMetrics } from './metrics/write-metrics.js';

export const SERVICE_NAME = 'ticketing-service';
export const DATABASE_SCHEMA = 'ticketing';
const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
/** Refused rows wait 1 s, 2 s, 4 s... up to this before their next try. */
const RETRY_MAX_DELAY_MS = 30_000;
/** A scrape's outbox query gets a connection and an answer within this, or the gauges read NaN. */
const METRICS_QUERY_TIMEOUT_MS = 2_000;
/** Beyond its confirm timeout, what a relay batch's transaction may sit idle: its last statements and a slow event loop. */
const RELAY_IDLE_MARGIN_MS = 30_000;
/** After a channel-level error (say, the exchange was deleted) while the connection lives on. */
const CHANNEL_REOPEN_DELAY_MS = 1_000;

export type TicketingService = {
  /** Base URL for a client on this machine, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The address the server bound (HOST), e.g. 127.0.0.1 */
  host: string;
  port: number;
  relay: OutboxRelay;
  /** This instance's metrics, as `GET /metrics` shows them. */
  metrics: Registry;
  /** Purges and vacuums the service's tables every MAINTENANCE_INTERVAL_MS (one instance at a time). */
  maintenance: Maintenance;
  /** Closes everything newest first: HTTP (drains), relay (settles its batch), broker, pool. */
  stop: () => Promise<void>;
};

export type StartOptions = {
  /** Pass the process's closers so that a signal during start-up closes what is open so far. */
  closers?: Closers;
  retryMaxDelayMs?: number;
};

/** Used by main.ts and by tests (port 0, a test topology prefix, the run's database). */
export async function startTicketingService(
  config: Config,
  log: Logger,
  { closers = new Closers(log), retryMaxDelayMs = RETRY_MAX_DELAY_MS }: StartOptions = {},
): Promise<TicketingService> {
  try {
    return await open(config, log, closers, retryMaxDelayMs);
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}

/** The ticketing schema brought up to date: what the service does at start, and tests and benches before loading rows. */
export function migrateTicketingDatabase(databaseUrl: string, log: Logger): Promise<void> {
  return migrate({ databaseUrl, dir: MIGRATIONS_DIR, schema: DATABASE_SCHEMA }, log);
}

async function open(config: Config, log: Logger, closers: Closers, retryMaxDelayMs: number) {
  const { exchange } = topologyNames(config.TOPOLOGY_PREFIX);
  await migrateTicketingDatabase(config.DATABASE_URL, log);
  const pool = createPool(
    { url: config.DATABASE_URL, applicationName: SERVICE_NAME, maxConnections: config.DATABASE_POOL_SIZE },
    log,
  );
  closers.add('database pool', () => endPool(pool));
  // The relay's connections, apart from the API's: under load, requests queue for the API's pool,
  // and a relay queued behind them would let the outbox fall behind while the API keeps accepting.
  const relayPool = createPool(
    {
      url: config.DATABASE_URL,
      applicationName: SERVICE_NAME,
      maxConnections: config.OUTBOX_BATCHES_IN_FLIGHT,
      // A batch's transaction waits for its confirms: a relay that stops answering (a frozen or
      // cut-off instance) loses its batch, rows pending again for the other instances, once that
      // wait has clearly passed.
      idleInTransactionTimeoutMs: config.OUTBOX_CONFIRM_TIMEOUT_MS + RELAY_IDLE_MARGIN_MS,
    },
    log,
  );
  closers.add('outbox relay pool', () => endPool(relayPool));
  const probePool = createProbePool(config.DATABASE_URL, SERVICE_NAME, log);
  closers.add('probe pool', () => endPool(probePool));
  await warnIfAutovacuumOff(pool, log, { tables: TICKETING_TABLES, intervalMs: config.MAINTENANCE_INTERVAL_MS });
  const maintenance = startMaintenance(ticketingMaintenance(config, log));
  closers.add('table maintenance', () => maintenance.stop());

  // The outbox gauges' connection: a scrape must not queue behind the requests when the API is
  // busiest, nor take the readiness probe's connections.
  const metricsPool = createPool(
    {
      url: config.DATABASE_URL,
      applicationName: `${SERVICE_NAME} metrics`,
      maxConnections: 1,
      statementTimeoutMs: METRICS_QUERY_TIMEOUT_MS,
      connectTimeoutMs: METRICS_QUERY_TIMEOUT_MS,
    },
    log,
  );
  closers.add('metrics pool', () => endPool(metricsPool));
  const metrics = createMetricsRegistry();
  const outboxMetrics = registerOutboxMetrics(
    metrics,
    { pool: metricsPool, exchange, log },
    { queryTimeoutMs: METRICS_QUERY_TIMEOUT_MS },
  );
  // Commands without an Idempotency-Key hold no connection: they wait here for their write instead.
  const writes = gatheredCartWrites(pool, {
    maxPerStatement: config.WRITE_BATCH_SIZE,
    statementsInFlight: config.WRITE_BATCHES_IN_FLIGHT,
    observer: registerWriteMetrics(metrics),
  });
  const waitingForDatabase = () => pool.waitingCount + writes.waiting();
  const loadMetrics = registerLoadMetrics(metrics, waitingForDatabase);

  const publisher = new ConfirmPublisher(log, {
    confirmTimeoutMs: config.OUTBOX_CONFIRM_TIMEOUT_MS,
    reopenDelayMs: CHANNEL_REOPEN_DELAY_MS,
    assertExchanges: [{ name: exchange, type: 'topic', options: { durable: true } }],
  });
  const relay = new OutboxRelay(
    { pool: relayPool, publisher, log, onBatchCommitted: (summary) => outboxMetrics.countPublished(summary.published) },
    {
      exchange,
      batchSize: config.OUTBOX_BATCH_SIZE,
      pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      lingerMs: config.OUTBOX_BATCH_LINGER_MS,
      retryMaxDelayMs,
      batchesInFlight: config.OUTBOX_BATCHES_IN_FLIGHT,
    },
  );
  publisher.onReady(() => relay.wake());
  // Without the broker the API still takes orders into the outbox: do not wait for it.
  const broker = await connectBroker(
    { url: config.AMQP_URL, connectionName: SERVICE_NAME, awaitFirstConnection: false },
    log,
    (model) => publisher.attach(model),
  );
  closers.add('broker connection', () => broker.close());
  closers.add('publisher', () => publisher.close());
  // Half the shutdown timeout, from the stop's first step, for the work under way: the commands,
  // then the relay's batches. On a database gone silent each of them waits out a read timeout (11 s),
  // and one after the other they overran the timeout; the other half is for the closers after them.
  // Fixed by whichever of them runs first (the relay's, in a stop during start-up).
  let workDeadline: number | undefined;
  const stopWorkDeadline = () => (workDeadline ??= Date.now() + Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2));
  relay.start();
  closers.add('outbox relay', () => relay.stop(stopWorkDeadline()));
  // Other instances' commits wake this relay too (and this one's wake theirs); without the listener it polls.
  const listener = listenForOutboxRows(
    {
      databaseUrl: config.DATABASE_URL,
      applicationName: SERVICE_NAME,
      exchange,
      reconnectDelayMs: config.OUTBOX_LISTEN_RECONNECT_MS,
    },
    { log, onRows: () => relay.wake() },
  );
  closers.add('outbox listener', () => listener.close());

  let draining = false;
  const inFlight = createInFlight();
  const app = createApp({
    log,
    pool,
    writes,
    outbox: { exchange, appId: SERVICE_NAME },
    carts: createCartCache(config.CART_CACHE_MAX_CARTS, registerCartCacheMetrics(metrics)),
    // This relay at once; the other instances' through the listener's announcement, sent after
    // the commit (its listener ignores its own).
    onCommitted: () => {
      relay.wake();
      listener.announce();
    },
    brokerReady: () => publisher.isReady(),
    isDraining: () => draining,
    metrics,
    idempotencyKeyTtlHours: config.IDEMPOTENCY_KEY_TTL_HOURS,
    probePool,
    shedding: { maxWaiting: config.MAX_WAITING_REQUESTS, onShed: loadMetrics.countShed, waitingForDatabase },
    inFlight,
  });
  // A quarter of the shutdown timeout for the requests under way; then their connections are cut.
  const closeGraceMs = Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4);
  const server = await listen(app, { port: config.PORT, host: config.HOST, log, closeGraceMs });
  closers.add('http server', async () => {
    const deadline = stopWorkDeadline();
    draining = true;
    await server.close();
    // The server counts connections: a command whose client left may still be about to commit.
    // One still under way at the deadline is left behind, and loses nothing: its client has no
    // answer (the server closed every connection), and whether it commits or not (its connection
    // dropped when the pool ends), its outbox rows commit with it or not at all.
    await settledBefore(inFlight.settled(), deadline);
    if (inFlight.count() > 0) {
      log.warn({ commands: inFlight.count() }, 'commands still under way at the stop deadline: left to the database');
    }
  });
  log.info({ host: server.host, port: server.port, exchange }, 'ticketing service listening');
  return {
    url: server.url,
    host: server.host,
    port: server.port,
    relay,
    metrics,
    maintenance,
    stop: async () => {
      await closers.closeAll();
    },
  };
}
