import type { Logger } from '@notify/shared/platform';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { settleBy, waitForDrain } from './confirm-waits.js';

export type OutgoingMessage = {
  trackingId: string;
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: Options.Publish & { messageId: string };
};

/**
 * published: the broker confirmed it and routed it. refused: the broker answered no (nack, or
 * returned as unroutable). failed: no answer (channel lost, confirm timeout). not_sent: never
 * handed to the broker.
 */
export type PublishOutcome =
  | { status: 'published' }
  | { status: 'refused' | 'failed'; reason: string }
  | { status: 'not_sent'; reason: string };

export type PublisherSettings = { exchange: string; confirmTimeoutMs: number; reopenDelayMs?: number };

type OpenChannel = { channel: ConfirmChannel; returned: Map<string, string> };

/**
 * Publishes on one confirm channel, recreated after every (re)connect by `attach` (the broker's
 * setup hook) and after a channel-level error while the connection lives on.
 */
export class ConfirmPublisher {
  private current: OpenChannel | undefined;
  private model: ChannelModel | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readyListener: () => void = () => undefined;

  constructor(
    private readonly log: Logger,
    private readonly settings: PublisherSettings,
  ) {}

  isReady(): boolean {
    return this.current !== undefined;
  }

  onReady(listener: () => void): void {
    this.readyListener = listener;
  }

  async attach(model: ChannelModel): Promise<void> {
    this.model = model;
    model.on('error', (err: Error) => this.log.debug({ err }, 'publisher connection error'));
    model.once('close', () => {
      if (this.model === model) this.model = undefined;
    });
    await this.openChannel(model);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reopenTimer);
  }

  /** Publishes every message, then waits for all confirms, bounded by the confirm timeout. */
  async publishBatch(messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    const current = this.current;
    if (!current) return messages.map(() => ({ status: 'not_sent', reason: 'no broker channel' }));
    const deadline = Date.now() + this.settings.confirmTimeoutMs;
    const confirms: Promise<PublishOutcome>[] = [];
    for (const message of messages) {
      const sent = this.publishOne(current, message);
      if (!sent) break;
      confirms.push(sent.confirmed);
      // The socket buffer is full: wait for it to empty rather than pile up memory.
      if (!sent.accepted && !(await waitForDrain(current.channel, deadline))) break;
    }
    const outcomes = await settleBy(confirms, deadline);
    return messages.map((_, index) => outcomes[index] ?? { status: 'not_sent', reason: 'channel unavailable' });
  }

  private publishOne(current: OpenChannel, message: OutgoingMessage) {
    let settle: (outcome: PublishOutcome) => void = () => undefined;
    const confirmed = new Promise<PublishOutcome>((resolve) => {
      settle = resolve;
    });
    const { exchange, routingKey, content, properties } = message;
    try {
      const accepted = current.channel.publish(exchange, routingKey, content, properties, (err: Error | null) =>
        settle(confirmOutcome(current, message.trackingId, err)),
      );
      return { accepted, confirmed };
    } catch {
      // The channel closed under us: what was not handed over stays pending.
      return undefined;
    }
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createConfirmChannel();
    const returned = new Map<string, string>();
    channel.on('error', (err: Error) => this.log.warn({ err }, 'publisher channel error'));
    channel.on('return', (message: Message) => returned.set(String(message.properties.messageId), describe(message)));
    channel.once('close', () => this.onChannelClosed(channel));
    await channel.assertExchange(this.settings.exchange, 'topic', { durable: true });
    this.current = { channel, returned };
    this.readyListener();
  }

  private onChannelClosed(channel: ConfirmChannel): void {
    if (this.current?.channel !== channel) return;
    this.current = undefined;
    this.scheduleReopen();
  }

  /** A channel error (say, the exchange was deleted) closes the channel only: open another one. */
  private scheduleReopen(): void {
    const model = this.model;
    if (this.closed || !model) return; // the connection is gone; recovery's setup reopens.
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.closed || this.model !== model || this.current) return;
      this.openChannel(model).catch((err: unknown) => {
        this.log.warn({ err }, 'reopening the publisher channel failed; retrying');
        this.scheduleReopen();
      });
    }, this.settings.reopenDelayMs ?? 1_000);
    this.reopenTimer.unref();
  }
}

/**
 * RabbitMQ sends basic.return before the confirm of the same message, and still acks it: an ack
 * for a message seen in 'return' means it reached no queue, so it does not count as published.
 */
function confirmOutcome(current: OpenChannel, trackingId: string, err: Error | null): PublishOutcome {
  if (err) {
    const nacked = err.message === 'message nacked';
    return { status: nacked ? 'refused' : 'failed', reason: nacked ? 'nacked by the broker' : err.message };
  }
  const returnedBecause = current.returned.get(trackingId);
  if (returnedBecause === undefined) return { status: 'published' };
  current.returned.delete(trackingId);
  return { status: 'refused', reason: returnedBecause };
}

function describe(message: Message): string {
  const fields = message.fields as unknown as { replyCode?: number; replyText?: string };
  return `returned: ${fields.replyCode ?? '?'} ${fields.replyText ?? 'unroutable'}`;
}
