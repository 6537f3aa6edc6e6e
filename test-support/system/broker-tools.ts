import type { Topology } from '@notify/shared';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';

/** One short-lived connection with 'error' listeners on everything, closed by `close()` whatever happened. */
export type AmqpSession = {
  connection: ChannelModel;
  channel: ConfirmChannel;
  close: () => Promise<void>;
};

export async function openAmqp(url: string): Promise<AmqpSession> {
  const connection = await amqp.connect(url, { timeout: 5_000 });
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    return { connection, channel, close: () => connection.close().catch(() => undefined) };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

async function withSession<T>(url: string, work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
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

/** Publishes with publisher confirms; resolves once the broker confirmed every message. */
export function publishConfirmed(
  url: string,
  messages: Array<{ exchange: string; routingKey: string; content: Buffer; options?: amqp.Options.Publish }>,
): Promise<void> {
  return withSession(url, async (channel) => {
    for (const { exchange, routingKey, content, options } of messages) {
      channel.publish(exchange, routingKey, content, options);
    }
    await channel.waitForConfirms();
  });
}

/** The properties of a received message in the shape `publish` takes, so it can be sent again as it was. */
export function republishOptions(message: GetMessage | amqp.ConsumeMessage): amqp.Options.Publish {
  const { userId: _userId, deliveryMode, ...properties } = message.properties;
  const defined = Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
  return { ...defined, persistent: deliveryMode === 2 };
}

/** Deletes the exchanges and queues of a topology prefix; missing ones are fine. */
export async function deleteTopology(url: string, topology: Topology, extraQueues: string[] = []): Promise<void> {
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
    for (const queue of [topology.queue, topology.deadLetterQueue, ...extraQueues]) {
      await attempt((channel) => channel.deleteQueue(queue));
    }
    for (const exchange of [topology.exchange, topology.deadLetterExchange]) {
      await attempt((channel) => channel.deleteExchange(exchange));
    }
  } finally {
    await session.close();
  }
}
