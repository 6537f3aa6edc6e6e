import { randomBytes } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { inject } from 'vitest';
import { waitFor } from './wait.js';
import './provided-context.js';

/** A name no other test or run uses: `<runId>.<label>.<random>.` */
export function uniquePrefix(label: string): string {
  return `${inject('runId')}.${label}.${randomBytes(3).toString('hex')}.`;
}

export type TestBroker = { connection: ChannelModel; channel: Channel; close: () => Promise<void> };

export async function openTestBroker(url = inject('amqpUrl')): Promise<TestBroker> {
  const connection = await amqp.connect(url, { timeout: 5_000 });
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  return {
    connection,
    channel,
    close: async () => {
      await connection.close().catch(() => undefined);
    },
  };
}

/** Takes one message off a queue, polling `get` (so no consumer is left behind). */
export function getOne(channel: Channel, queue: string, timeoutMs = 10_000): Promise<GetMessage> {
  return waitFor(
    async () => {
      const message = await channel.get(queue, { noAck: true });
      return message === false ? undefined : message;
    },
    { timeoutMs, what: `a message on ${queue}` },
  );
}

export async function deleteQueues(channel: Channel, ...queues: string[]): Promise<void> {
  for (const queue of queues) await channel.deleteQueue(queue);
}
