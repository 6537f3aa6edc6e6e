import { fileURLToPath } from 'node:url';
import { topologyNames } from '@notify/shared';
import {
  Closers,
  ConfirmPublisher,
  connectBroker,
  createMetricsRegistry,
  createPool,
  createProbePool,
  endPool,
  type Logger,
  listen,
  type Maintenance,
  migrate,
  startMaintenance,
  warnIfAutovacuumOff,
} from '@notify/shared/platform';
import type { Registry } from 'prom-client';
import { createApp } from './app.js';
import { DRAIN_SHARE_OF_SHUTDOWN, type HandlerConfig, type ProviderName } from './config.js';
import { createDatabaseAvailability, probeWritable } from './db/database-availability.js';
import { HANDLER_TABLES, notificationMaintenance } from './db/notification-maintenance.js';
import { createNotificationStore } from './db/notification-store.js';
import type { EmailProvider } from './domain/email-provider.js';
import { distinctDelays } from './domain/redelivery-schedule.js';
import { sendNotification } from './domain/send-notification.js';
import { createEmailProviders } from './email-providers.js';
import type { ProviderRouter } from './failover/provider-router.js';
import { operatorDependencies } from './http/operator-page/operator-dependencies.js';
import { createNotificationConsumer } from './messaging/notification-consumer.js';
import { createQueueSampler } from './messaging/queue-sampler.js';
import { replayPublisher } from './messaging/replay-publisher.js';
import { registerHandlerMetrics } from './metrics/handler-metrics.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const APP_ID = 'notification-handler';
const QUEUE_SAMPLE_TIMEOUT_MS = 2_000;

export type HandlerOverrides = {
  /** The process's closers, so that a signal during start-up closes what is open so far. */
  closers?: Closers;
  /** Adapters to use instead of the real ones, by provider name. */
  adapters?: Partial<Record<ProviderName, EmailProvider>>;
  requeueDelayMs?: number;
};

export type RunningHandler = {
  url: string;
  closers: Closers;
  consumer: ReturnType<typeof createNotificationConsumer>;
  /** Every provider behind its breaker, and the failover between them. */
  provider: ProviderRouter;
  /** This instance's metrics, as `GET /metrics` shows them. */
  metrics: Registry;
  maintenance: Maintenance;
  stop: () => Promise<void>;
};

/**
 * Opens everything in dependency order and registers each closer as it opens. Closing replays
 * them newest first: database waits, consumer (drains in-flight sends), publisher, the consumer's
 * broker connection, the publisher's, HTTP server (its in-flight requests still need the pools),
 * readiness probe's pool, the providers' connections, table maintenance, pool.
 */
export async function startNotificationHandler(
  config: HandlerConfig,
  log: Logger,
  overrides: HandlerOverrides = {},
): Promise<RunningHandler> {
  const closers = overrides.closers ?? new Closers(log);
  const pool = createPool(
    { url: config.DATABASE_URL, applicationName: APP_ID, maxConnections: config.DATABASE_POOL_SIZE },
    log,
  );
  closers.add('database pool', () => endPool(pool));
  try {
    await migrate({ databaseUrl: config.DATABASE_URL, dir: MIGRATIONS_DIR, schema: 'notifications' }, log);
    await warnIfAutovacuumOff(pool, log, { tables: HANDLER_TABLES, intervalMs: config.MAINTENANCE_INTERVAL_MS });
    const maintenance = startMaintenance(notificationMaintenance(config, log));
    closers.add('table maintenance', () => maintenance.stop());
    const topology = topologyNames(config.TOPOLOGY_PREFIX);
    const delaysMs = distinctDelays(config.redelivery);
    const availability = createDatabaseAvailability(() => probeWritable(pool), {
      probeIntervalMs: config.DATABASE_PROBE_MS,
      log,
    });
    const store = createNotificationStore(pool, availability, {
      leaseMs: config.leaseMs,
      maxConcurrentBatches: config.WRITE_BATCHES_IN_FLIGHT,
    });
    const metrics = createMetricsRegistry();
    // Read at scrape time, once the server listens: by then the guard and the consumer exist.
    const handlerMetrics = registerHandlerMetrics(metrics, {
      providers: config.providers,
      breakerStates: () => provider.breakerStates(),
      inFlight: () => consumer.inFlightCount(),
    });
    const provider = createEmailProviders(config, {
      log,
      onCall: handlerMetrics.observeProviderCall,
      adapters: overrides.adapters,
    });
    // Closed after the consumer drained: no send is in flight by then.
    closers.add('provider connections', () => provider.closeConnections());
    const publisher = new ConfirmPublisher(log, {
      confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS,
      reopenDelayMs: 1_000,
    });
    const claimedHere = new Set<string>();
    const consumer = createNotificationConsumer({
      topology,
      prefetch: config.PREFETCH,
      consumerTimeoutMs: config.consumerTimeoutMs,
      delaysMs,
      log,
      requeueDelayMs: overrides.requeueDelayMs,
      deadLetterMaxMessages: config.DEAD_LETTER_MAX_MESSAGES,
      publish: (message) => publisher.publish(message),
      whenPublishable: (signal, timeoutMs) => publisher.whenPublishable(signal, timeoutMs),
      handle: (delivery, signal) =>
        sendNotification(
          delivery,
          {
            store,
            provider,
            from: config.from,
            retryPolicy: config.retryPolicy,
            redelivery: config.redelivery,
            leasePollMs: config.LEASE_POLL_MS,
            personalDataRetentionMs: config.PERSONAL_DATA_RETENTION_DAYS * 86_400_000,
            claimedHere,
            log,
          },
          signal,
        ),
    });
    consumer.events.on('decided', handlerMetrics.countDecision);
    // Messages wait in the queue, untouched, while every provider or the database is away; for the
    // providers, one comes in at a time, so that the breakers' probes carry a real pending email.
    // While one provider's breaker is still closed, it takes the emails and consumption goes on.
    provider.onAvailabilityChange((everyOpen) => {
      for (const name of provider.names) {
        if (everyOpen) consumer.pause(name, { oneAtATime: true });
        else consumer.resume(name);
      }
    });
    availability.onChange((up) => (up ? consumer.resume('database') : consumer.pause('database')));

    const requeue = replayPublisher((message) => publisher.publish(message), topology, APP_ID);
    const operator = operatorDependencies(config, topology, requeue, log);
    // Two steps: readiness fails from the first moment of the stop, while the consumer drains (the
    // liveness probe, /metrics and the API still answer: failing liveness would have the container
    // killed mid-drain); requests are refused only once the server closes, at the end.
    let draining = false;
    let closing = false;
    // /readyz asks through a pool of its own: a handler whose connections all carry statements is
    // busy, not down. It asks what the outage probe asks, whether the database takes the
    // consumer's writes: one that answers `SELECT 1` read-only, or without the handler's table or
    // grants, has consumption paused, and a handler that cannot consume is not ready.
    const probePool = createProbePool(config.DATABASE_URL, APP_ID, log);
    closers.add('probe pool', () => endPool(probePool));
    const app = createApp({
      db: pool,
      probeDatabase: () => probeWritable(probePool),
      // Both connections: without the publisher's, every dead letter and delayed retry goes back
      // to the queue unpublished.
      isConnected: () => consumer.isConnected() && publisher.isReady(),
      isDraining: () => draining,
      isClosing: () => closing,
      describeHealth: () => ({ breaker: provider.breakerStates(), pausedBy: consumer.pausedBy() }),
      replay: {
        db: pool,
        requeue,
        pendingForMs: config.NOTIFICATION_DEADLINE_MS,
        personalDataRetentionMs: config.PERSONAL_DATA_RETENTION_DAYS * 86_400_000,
      },
      log,
      metrics,
      operator,
      trustProxy: config.TRUST_PROXY,
    });
    // A quarter of the shutdown timeout for the requests under way; then their connections are cut.
    const closeGraceMs = Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4);
    const server = await listen(app, { port: config.PORT, host: config.HOST, log, closeGraceMs });
    closers.add('http server', () => {
      closing = true;
      return server.close();
    });

    const sampler = createQueueSampler({
      queues: [topology.queue, topology.deadLetterQueue],
      intervalMs: config.QUEUE_SAMPLE_MS,
      timeoutMs: QUEUE_SAMPLE_TIMEOUT_MS,
      onSample: handlerMetrics.setQueueMessages,
      log,
    });
    // The publisher on a connection of its own: under a memory or disk alarm RabbitMQ stops reading
    // every connection that publishes, and on a shared one the consumer's acks would stop with the
    // dead letters and delayed retries, and with them every delivery past the prefetch window.
    // Opened first: the first deliveries may need it.
    const publishing = await connectBroker(
      { url: config.AMQP_URL, connectionName: `${APP_ID} publisher` },
      log.child({ connection: 'publisher' }),
      (model) => publisher.attach(model),
    );
    closers.add('publisher broker connection', publishing.close);
    const broker = await connectBroker({ url: config.AMQP_URL, connectionName: APP_ID }, log, async (model) => {
      await consumer.setup(model);
      sampler.attach(model);
      operator.inspector.attach(model);
    });
    closers.add('broker connection', broker.close);
    closers.add('queue sampler', () => sampler.stop());
    closers.add('publisher', () => publisher.close());
    // Draining gets most of the shutdown bound; the rest is for closing connections.
    closers.add('consumer', () => consumer.stop(Math.floor(config.SHUTDOWN_TIMEOUT_MS * DRAIN_SHARE_OF_SHUTDOWN)));
    // Stopped before the consumer drains: a delivery waiting out a 429's pause (up to half a lease)
    // would outlast the drain and call the provider after its message went back to the queue. It
    // gives the message back now instead, its lease released, unsent.
    closers.add('provider calls', () => provider.stopCalls());
    // Closed before the consumer drains: a message held for a database that is away goes back to
    // the queue at once instead of holding up the stop.
    closers.add('database waits', () => availability.close());
    closers.add('draining flag', () => {
      draining = true;
    });
    log.info({ port: server.port }, 'notification handler ready');
    return {
      url: `http://127.0.0.1:${server.port}`,
      closers,
      consumer,
      provider,
      metrics,
      maintenance,
      stop: async () => {
        await closers.closeAll();
      },
    };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}
