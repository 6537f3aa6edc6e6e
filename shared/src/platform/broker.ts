import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { type Logger, redactUrl } from './logger.js';

export type BrokerSettings = {
  url: string;
  /** Shown in RabbitMQ's connection list, so an operator can tell services apart. */
  connectionName: string;
  /** Reconnect attempts before the first connection succeeds; after that, recovery never gives up. */
  initialRetries?: number;
  heartbeatSeconds?: number;
  connectTimeoutMs?: number;
  /**
   * false: resolve at once and keep trying in the background. For a service that can do useful
   * work without the broker (the ticketing service writes to its outbox meanwhile).
   */
  awaitFirstConnection?: boolean;
};

export type Broker = {
  connection: RecoveringChannelModel;
  isConnected: () => boolean;
  close: () => Promise<void>;
};

/**
 * One recovering connection per service. `setup` runs after every (re)connect and must recreate
 * the channels, topology and consumers the service needs: channels die with their connection.
 */
export async function connectBroker(
  settings: BrokerSettings,
  log: Logger,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<Broker> {
  const brokerLog = log.child({ broker: redactUrl(settings.url) });
  let connected = false;
  const connection = await amqp.connect(withHeartbeat(settings.url, settings.heartbeatSeconds ?? 10), {
    timeout: settings.connectTimeoutMs ?? 5_000,
    clientProperties: { connection_name: settings.connectionName },
    recovery: {
      initialDelay: 250,
      maxDelay: 5_000,
      initialMaxRetries:
        settings.awaitFirstConnection === false ? Number.POSITIVE_INFINITY : (settings.initialRetries ?? 3),
      maxRetries: Number.POSITIVE_INFINITY,
      waitForConnect: false,
      setup,
    },
  });
  connection.on('error', (err) => brokerLog.warn({ err }, 'broker connection error'));
  connection.on('handler-error', (err, event) => brokerLog.error({ err, event }, 'broker event handler threw'));
  connection.on('connect', () => {
    connected = true;
    brokerLog.info('broker connected');
  });
  connection.on('disconnect', (err) => {
    connected = false;
    brokerLog.warn({ err }, 'broker connection lost; reconnecting');
  });
  connection.on('connect-failed', (err) => brokerLog.warn({ err }, 'broker connection attempt failed'));
  connection.on('reconnect-scheduled', ({ attempt, delay }) =>
    brokerLog.info({ attempt, delayMs: delay }, 'broker reconnect scheduled'),
  );
  connection.on('reconnect-failed', (err) => brokerLog.error({ err }, 'broker reconnect gave up'));
  connection.on('blocked', (reason) => brokerLog.warn({ reason }, 'broker blocked publishing'));
  connection.on('unblocked', () => brokerLog.info('broker unblocked publishing'));

  if (settings.awaitFirstConnection !== false) {
    await connection.waitForConnect().catch((error: unknown) => {
      throw new Error(`RabbitMQ did not answer at ${redactUrl(settings.url)}: ${(error as Error).message}`);
    });
  }
  return {
    connection,
    isConnected: () => connected,
    close: () => connection.close(),
  };
}

function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}
