import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { batchFrameWrites } from './amqp-write-batching.js';
import { type AddressOrder, brokerAddresses } from './broker-addresses.js';
import { beforeDeadline } from './confirm-waits.js';
import type { Logger } from './logger.js';

export type BrokerSettings = {
  /** One node, or the nodes of one cluster: a lost connection or a failed attempt moves to the next. */
  url: string | readonly string[];
  /** Which node the first attempt goes to; `random-start` (default) spreads instances over the nodes. */
  order?: AddressOrder;
  /** Shown in RabbitMQ's connection list, so an operator can tell services apart. */
  connectionName: string;
  /**
   * Reconnect attempts before the first connection succeeds, besides one per further node; after
   * that, recovery never gives up.
   */
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
 * How long a stop waits for the broker's answer to its close. A broker that went silent would hold
 * it until the heartbeat gave up on the connection (two missed beats): the process exits instead,
 * which closes the socket all the same.
 */
const CLOSE_WAIT_MS = 2_000;

/**
 * One recovering connection. `setup` runs after every (re)connect and must recreate the channels,
 * topology and consumers it carries: channels die with their connection.
 */
export async function connectBroker(
  settings: BrokerSettings,
  log: Logger,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<Broker> {
  const addresses = brokerAddresses(typeof settings.url === 'string' ? [settings.url] : settings.url, {
    heartbeatSeconds: settings.heartbeatSeconds ?? 10,
    order: settings.order ?? 'random-start',
  });
  const brokerLog = log.child({ brokers: addresses.describe() });
  let connected = false;
  let closing = false;
  const connection = await amqp.connect(addresses.target, {
    timeout: settings.connectTimeoutMs ?? 5_000,
    clientProperties: { connection_name: settings.connectionName },
    recovery: {
      initialDelay: 250,
      maxDelay: 5_000,
      initialMaxRetries:
        settings.awaitFirstConnection === false
          ? Number.POSITIVE_INFINITY
          : (settings.initialRetries ?? 3) + addresses.size - 1,
      maxRetries: Number.POSITIVE_INFINITY,
      waitForConnect: false,
      setup: async (model: ChannelModel) => {
        // amqplib listens on a new connection only once setup has run: until then an error of its
        // socket (a reset, a missed heartbeat) would be thrown out of the socket's event handler.
        // Setup then fails, and recovery drops this connection (the listener stays on it) and
        // opens the next.
        const duringSetup = (err: Error) =>
          brokerLog.warn({ err, broker: addresses.current() }, 'broker connection error while setting up');
        // And a connection whose stop came while its setup ran, amqplib never listens on: it
        // closes it instead, and an error of its socket before the broker answers the close would
        // end the process. This listener stays for the connection's life; on a connection in use,
        // amqplib's own reports the error (as 'broker connection error').
        model.on('error', (err: Error) => {
          if (closing) brokerLog.debug({ err, broker: addresses.current() }, 'broker connection error while closing');
        });
        // A setup that heard its channel close and carried on (the consumer logs a failed consume
        // and goes on) would resolve on a dead connection; amqplib would then listen for a close
        // that has already happened, report the connection up and never reconnect.
        let closedDuringSetup = false;
        const closed = () => {
          closedDuringSetup = true;
        };
        model.on('error', duringSetup);
        model.once('close', closed);
        if (!batchFrameWrites(model)) brokerLog.warn('amqplib socket not found: frames are written one at a time');
        try {
          await setup(model);
        } finally {
          model.off('close', closed);
        }
        if (closedDuringSetup) throw new Error('the broker connection closed while it was being set up');
        // amqplib binds its own listener before any further event of the socket can arrive.
        model.off('error', duringSetup);
      },
    },
  });
  connection.on('error', (err) => brokerLog.warn({ err, broker: addresses.current() }, 'broker connection error'));
  connection.on('handler-error', (err, event) => brokerLog.error({ err, event }, 'broker event handler threw'));
  connection.on('connect', () => {
    connected = true;
    brokerLog.info({ broker: addresses.current() }, 'broker connected');
  });
  // Both fire before amqplib schedules the next attempt: that attempt goes to the next node.
  connection.on('disconnect', (err) => {
    connected = false;
    brokerLog.warn({ err, broker: addresses.current() }, 'broker connection lost; reconnecting');
    addresses.advance();
  });
  connection.on('connect-failed', (err) => {
    brokerLog.warn({ err, broker: addresses.current() }, 'broker connection attempt failed');
    addresses.advance();
  });
  connection.on('reconnect-scheduled', ({ attempt, delay }) =>
    brokerLog.info({ attempt, delayMs: delay, broker: addresses.current() }, 'broker reconnect scheduled'),
  );
  connection.on('reconnect-failed', (err) => brokerLog.error({ err }, 'broker reconnect gave up'));
  connection.on('blocked', (reason) => brokerLog.warn({ reason }, 'broker blocked publishing'));
  connection.on('unblocked', () => brokerLog.info('broker unblocked publishing'));

  if (settings.awaitFirstConnection !== false) {
    await connection.waitForConnect().catch((error: unknown) => {
      throw new Error(`could not connect to RabbitMQ at ${addresses.describe()}: ${(error as Error).message}`);
    });
  }
  return {
    connection,
    isConnected: () => connected,
    close: () => {
      closing = true;
      return beforeDeadline(connection.close(), Date.now() + CLOSE_WAIT_MS, undefined);
    },
  };
}
