import { connectBroker } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import amqp, { type ChannelModel } from 'amqplib';
import { describe, expect, inject, it } from 'vitest';

type SocketWrites = { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };

/** Counts what reaches the socket's own write functions: one call per system call it makes. */
function countSocketWrites(model: ChannelModel): () => number {
  const socket = (model.connection as { stream?: SocketWrites }).stream;
  if (!socket) throw new Error('amqplib connection has no stream');
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = socket[name].bind(socket);
    socket[name] = (...args: unknown[]) => {
      writes += 1;
      original(...args);
    };
  }
  return () => writes;
}

const MESSAGES = 50;

/** Publishes MESSAGES messages in one turn of the event loop; gives the socket writes they took. */
async function writesForOneTurnOfPublishes(model: ChannelModel, socketWrites: () => number): Promise<number> {
  const channel = await model.createConfirmChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  const before = socketWrites();
  for (let i = 0; i < MESSAGES; i += 1) channel.sendToQueue(queue, Buffer.from(`message ${i}`));
  await channel.waitForConfirms();
  const writes = socketWrites() - before;
  const { messageCount } = await channel.checkQueue(queue);
  expect(messageCount).toBe(MESSAGES);
  await channel.close();
  return writes;
}

describe('AMQP frame batching', () => {
  it('When a turn publishes 50 messages, then they leave in one socket write, where plain amqplib makes one each', async () => {
    const plain = await amqp.connect(inject('amqpUrl'));
    const plainWrites = await writesForOneTurnOfPublishes(plain, countSocketWrites(plain)).finally(() => plain.close());

    const { log } = captureLogs();
    let connected: { model: ChannelModel; socketWrites: () => number } | undefined;
    const broker = await connectBroker(
      { url: inject('amqpUrl'), connectionName: 'batching-test' },
      log,
      async (model) => {
        connected = { model, socketWrites: countSocketWrites(model) };
      },
    );
    try {
      if (!connected) throw new Error('setup did not run');
      const batchedWrites = await writesForOneTurnOfPublishes(connected.model, connected.socketWrites);

      expect(plainWrites).toBeGreaterThanOrEqual(MESSAGES);
      expect(batchedWrites).toBe(1);
    } finally {
      await broker.close();
    }
  });
});
