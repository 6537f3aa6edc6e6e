import { type Logger, settledBefore } from '@notify/shared/platform';
import type { Channel, ChannelModel } from 'amqplib';

export class BrokerUnavailableError extends Error {}

const CLOSE_WAIT_MS = 1_000;

export type BrokerInspector = ReturnType<typeof createBrokerInspector>;

export type QueueDepth = { messages: number; consumers: number };

/**
 * The operator page's look at the broker: each look opens a channel of its own, so that a missing
 * queue (which closes the channel with a 404) or a slow broker never touches the consumer's or the
 * publisher's channel. `attach` runs from the broker's setup after every (re)connect.
 */
export function createBrokerInspector(log: Logger) {
  let model: ChannelModel | undefined;

  async function withChannel<T>(timeoutMs: number, work: (channel: Channel) => Promise<T>): Promise<T> {
    const current = model;
    if (!current) throw new BrokerUnavailableError('no broker connection');
    let channel: Channel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BrokerUnavailableError(`the broker did not answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const opening = current.createChannel();
    try {
      channel = await Promise.race([opening, deadline]);
      channel.on('error', (err: Error) => log.debug({ err }, 'operator page channel error'));
      return await Promise.race([work(channel), deadline]);
    } finally {
      clearTimeout(timer);
      // Closing returns whatever the work still holds unacked. Awaited (briefly), so that the next
      // look sees the nacks applied; a channel that opened after the deadline is closed too.
      if (channel) await settledBefore(channel.close(), Date.now() + CLOSE_WAIT_MS);
      else void opening.then((late) => late.close()).catch(() => undefined);
    }
  }

  return {
    attach(next: ChannelModel): void {
      model = next;
      next.once('close', () => {
        if (model === next) model = undefined;
      });
    },

    withChannel,

    /** Ready messages only: a message delivered and not yet acked (in flight, or being read) is not counted. */
    queueDepth(queue: string, timeoutMs: number): Promise<QueueDepth> {
      return withChannel(timeoutMs, async (channel) => {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        return { messages: messageCount, consumers: consumerCount };
      });
    },
  };
}
