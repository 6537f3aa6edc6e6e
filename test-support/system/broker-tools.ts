import { DEFAULT_REDELIVERY_DELAYS_MS, delayQueueName, type Topology } from '@notify/shared';
import { ConfirmPublisher } from '@notify/shared/platform';
import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { silentLogger } from '../logger.js';

/**
 * One short-lived connection with 'error' listeners on everything, closed by `close()` whatever
 * happened. Its channel has no confirms: publish with `publishConfirmed`.
 */
export type AmqpSession = {
  connection: ChannelModel;
  channel: Channel;
  close: () => Promise<void>;
};

async function connectAmqp(url: string): Promise<ChannelModel> {
  const connection = await amqp.connect(url, { timeout: 5_000 });
  connection.on('error', () => undefined);
  return connection;
}

export async function openAmqp(url: string): Promise<AmqpSession> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return { connection, channel, close: () => connection.close().catch(() => undefined) };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

async function withSession<T>(url: string, work: (channel: Channel) => Promise<T>): Promise<T> {
  const session = await openAmqp(url);
  try {
    return await work(session.channel);
  } finally {
    await session.close();
  }
}

export type QueueDepth = { queue: string; exists: boolean; messages: number; consumers: number };

/**
 * Ready messages and consumers of a queue (`checkQueue`, passive). Messages a consumer holds
 * unacked are not counted: stop the consumers first to count everything.
 */
export async function queueDepth(url: string, queue: string): Promise<QueueDepth> {
  try {
    // A missing queue closes the channel that asked; its own session keeps that from mattering.
    const ok = await withSession(url, (channel) => channel.checkQueue(queue));
    return { queue, exists: true, messages: ok.messageCount, consumers: ok.consumerCount };
  } catch (error) {
    if (/NOT_FOUND|404/.test(String((error as Error).message)))
      return { queue, exists: false, messages: 0, consumers: 0 };
    throw error;
  }
}

/** Takes every ready message off a queue (at most `max`), acknowledging them. */
export function drainQueue(url: string, queue: string, max = 10_000): Promise<GetMessage[]> {
  return withSession(url, async (channel) => {
    const taken: GetMessage[] = [];
    while (taken.length < max) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      taken.push(message);
    }
    return taken;
  });
}

export type MessageToPublish = {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options?: amqp.Options.Publish;
};

/**
 * Publishes through the services' own `ConfirmPublisher` (mandatory, confirms and returns) on a
 * connection of its own; resolves once the broker confirmed and routed every message, and throws
 * naming each one it did not.
 */
export async function publishConfirmed(
  url: string,
  messages: MessageToPublish[],
  { confirmTimeoutMs = 10_000 } = {},
): Promise<void> {
  const connection = await connectAmqp(url);
  const publisher = new ConfirmPublisher(silentLogger, { confirmTimeoutMs, reopenDelayMs: 0 });
  try {
    await publisher.attach(connection);
    const outcomes = await publisher.publishBatch(
      messages.map(({ exchange, routingKey, content, options }) => ({
        exchange,
        routingKey,
        content,
        properties: options,
      })),
    );
    const unpublished = outcomes.flatMap((outcome, index) =>
      outcome.status === 'published' ? [] : [`#${index} ${outcome.status} (${outcome.reason})`],
    );
    if (unpublished.length > 0) {
      throw new Error(`${unpublished.length} of ${messages.length} messages not published: ${unpublished.join('; ')}`);
    }
  } finally {
    publisher.close();
    await connection.close().catch(() => undefined);
  }
}

/** The properties of a received message in the shape `publish` takes, so it can be sent again as it was. */
export function republishOptions(message: GetMessage | amqp.ConsumeMessage): amqp.Options.Publish {
  const { userId: _userId, deliveryMode, ...properties } = message.properties;
  const defined = Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
  return { ...defined, persistent: deliveryMode === 2 };
}

/**
 * Deletes the exchanges and queues of a topology prefix, the delay queues of the default redelivery
 * schedule and of `delaysMs` included (a delay queue left behind keeps expired messages it can no
 * longer route, for good); missing ones are fine.
 */
export async function deleteTopology(
  url: string,
  topology: Topology,
  { delaysMs = [], extraQueues = [] }: { delaysMs?: readonly number[]; extraQueues?: string[] } = {},
): Promise<void> {
  const delayQueues = [...new Set([...DEFAULT_REDELIVERY_DELAYS_MS, ...delaysMs])].map((ms) =>
    delayQueueName(topology, ms),
  );
  const session = await openAmqp(url);
  const { connection } = session;
  try {
    const attempt = async (work: (channel: Channel) => Promise<unknown>) => {
      // A failed delete closes its channel: each delete gets its own.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await work(channel).catch(() => undefined);
      await channel.close().catch(() => undefined);
    };
    for (const queue of [topology.queue, topology.deadLetterQueue, ...delayQueues, ...extraQueues]) {
      await attempt((channel) => channel.deleteQueue(queue));
    }
    for (const exchange of [topology.exchange, topology.deadLetterExchange]) {
      await attempt((channel) => channel.deleteExchange(exchange));
    }
  } finally {
    await session.close();
  }
}
