import { fileURLToPath } from 'node:url';
import { encodeNotification, type NotificationMessage, topologyNames } from '@notify/shared';
import {
  Closers,
  connectBroker,
  createPool,
  type Logger,
  listen,
  migrate,
  pingDatabase,
  redactUrl,
} from '@notify/shared/platform';
import { createApp } from './app.js';
import { batchingEmailProvider } from './batching/batching-email-provider.js';
import type { HandlerConfig } from './config.js';
import { createNotificationStore } from './db/notification-store.js';
import type { EmailProvider } from './domain/email-provider.js';
import { sendNotification } from './domain/send-notification.js';
import { createMailjetEmailProvider } from './mailjet/mailjet-email-provider.js';
import { publishConfirmed } from './messaging/confirmed-publish.js';
import { createNotificationConsumer } from './messaging/notification-consumer.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const APP_ID = 'notification-handler';

export type HandlerOverrides = {
  /** The process's closers, so that a signal during start-up closes what is open so far. */
  closers?: Closers;
  provider?: EmailProvider;
  requeueDelayMs?: number;
};

export type RunningHandler = {
  url: string;
  closers: Closers;
  consumer: ReturnType<typeof createNotificationConsumer>;
  stop: () => Promise<void>;
};

/**
 * Opens everything in dependency order and registers each closer as it opens. Closing replays
 * them newest first: consumer (drains in-flight sends), broker connection, HTTP server (its
 * in-flight requests still need the pool), pool.
 */
export async function startNotificationHandler(
  config: HandlerConfig,
  log: Logger,
  overrides: HandlerOverrides = {},
): Promise<RunningHandler> {
  const closers = overrides.closers ?? new Closers(log);
  const pool = createPool({ url: config.DATABASE_URL, applicationName: APP_ID, maxConnections: 20 }, log);
  closers.add('database pool', () => pool.end());
  try {
    await migrate({ databaseUrl: config.DATABASE_URL, dir: MIGRATIONS_DIR, schema: 'notifications' }, log);
    if (config.usesSandbox) {
      log.warn(
        { mailjetApiUrl: redactUrl(config.mailjet.apiUrl) },
        'NO MAILJET_API_KEY SET: sending to the local Mailjet sandbox. No real email leaves this machine.',
      );
    }
    const provider = batchingEmailProvider(
      overrides.provider ?? createMailjetEmailProvider(config.mailjet, log),
      config.MAILJET_MAX_CONCURRENT_CALLS,
    );
    const store = createNotificationStore(pool, { leaseMs: config.leaseMs });
    const topology = topologyNames(config.TOPOLOGY_PREFIX);
    let draining = false;
    const consumer = createNotificationConsumer({
      topology,
      prefetch: config.PREFETCH,
      log,
      requeueDelayMs: overrides.requeueDelayMs,
      handle: (message, shutdown) =>
        sendNotification(
          message,
          { store, provider, from: config.from, retryPolicy: config.retryPolicy, log },
          shutdown,
        ),
    });

    const publish = async (message: NotificationMessage) => {
      const channel = consumer.channel();
      if (!channel) throw new Error('the broker is not connected');
      const encoded = encodeNotification(message, APP_ID);
      await publishConfirmed(channel, topology.exchange, encoded.routingKey, encoded.content, encoded.properties);
    };
    const app = createApp({
      db: pool,
      pingDatabase: () => pingDatabase(pool),
      isConsuming: consumer.isConsuming,
      isDraining: () => draining,
      publish,
      log,
    });
    const server = await listen(app, config.PORT);
    closers.add('http server', server.close);

    const broker = await connectBroker({ url: config.AMQP_URL, connectionName: APP_ID }, log, consumer.setup);
    closers.add('broker connection', broker.close);
    // Draining gets most of the shutdown bound; the rest is for closing connections.
    closers.add('consumer', () => consumer.stop(Math.floor(config.SHUTDOWN_TIMEOUT_MS * 0.8)));
    closers.add('draining flag', () => {
      draining = true;
    });
    log.info({ port: server.port }, 'notification handler ready');
    return { url: `http://127.0.0.1:${server.port}`, closers, consumer, stop: () => closers.closeAll() };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}
