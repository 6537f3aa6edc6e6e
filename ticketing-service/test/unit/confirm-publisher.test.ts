import { EventEmitter } from 'node:events';
import type { ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../test-support/logger.js';
import { waitFor } from '../../../test-support/wait.js';
import { ConfirmPublisher, type OutgoingMessage } from '../../src/messaging/confirm-publisher.js';

type Answer = 'ack' | 'nack' | 'return' | 'none';
type Published = { message: OutgoingMessage; confirm: (err: Error | null) => void };

/** Just enough of an amqplib confirm channel: answers each publish the way the test says. */
class FakeChannel extends EventEmitter {
  readonly published: Published[] = [];
  closed = false;
  constructor(
    private readonly answer: (index: number) => Answer,
    private readonly bufferFull: (index: number) => boolean = () => false,
  ) {
    super();
  }

  async assertExchange() {
    return {};
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: OutgoingMessage['properties'],
    confirm: (err: Error | null) => void,
  ): boolean {
    if (this.closed) throw new Error('Channel closed');
    const index = this.published.length;
    const message = { trackingId: properties.messageId, exchange, routingKey, content, properties };
    this.published.push({ message, confirm });
    setImmediate(() => this.respond(index));
    return !this.bufferFull(index);
  }

  /** Like amqplib: unconfirmed callbacks fail first, then 'close' is emitted. */
  close(): void {
    this.closed = true;
    for (const { confirm } of this.published) confirm(new Error('channel closed'));
    this.emit('close');
  }

  private respond(index: number): void {
    const published = this.published[index]!;
    const answer = this.answer(index);
    if (answer === 'none' || this.closed) return;
    if (answer === 'return') {
      // RabbitMQ returns an unroutable mandatory message, then still acks it.
      this.emit('return', {
        fields: { replyCode: 312, replyText: 'NO_ROUTE' },
        properties: { messageId: published.message.trackingId },
        content: published.message.content,
      });
    }
    published.confirm(answer === 'nack' ? new Error('message nacked') : null);
  }
}

function fakeModel(...channels: FakeChannel[]): ChannelModel {
  const model = new EventEmitter() as EventEmitter & { createConfirmChannel: () => Promise<FakeChannel> };
  model.createConfirmChannel = async () => {
    const next = channels.shift();
    if (!next) throw new Error('no more channels');
    return next;
  };
  return model as unknown as ChannelModel;
}

function messages(count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    trackingId: `tracking-${index}`,
    exchange: 'test.ticketing.events',
    routingKey: 'checkout.completed',
    content: Buffer.from(`{"n":${index}}`),
    properties: { messageId: `tracking-${index}`, persistent: true, mandatory: true },
  }));
}

async function attachedPublisher(channel: FakeChannel, settings: { confirmTimeoutMs?: number } = {}) {
  const publisher = new ConfirmPublisher(silentLogger, {
    exchange: 'test.ticketing.events',
    confirmTimeoutMs: settings.confirmTimeoutMs ?? 5_000,
    reopenDelayMs: 0,
  });
  await publisher.attach(fakeModel(channel));
  return publisher;
}

describe('ConfirmPublisher', () => {
  it('When the broker acks every message, then each is published', async () => {
    const publisher = await attachedPublisher(new FakeChannel(() => 'ack'));

    const outcomes = await publisher.publishBatch(messages(3));

    expect(outcomes).toEqual(Array(3).fill({ status: 'published' }));
  });

  it('When a message comes back as a return before its ack, then it is refused, not published', async () => {
    const publisher = await attachedPublisher(new FakeChannel((index) => (index === 1 ? 'return' : 'ack')));

    const outcomes = await publisher.publishBatch(messages(3));

    expect(outcomes).toEqual([
      { status: 'published' },
      { status: 'refused', reason: 'returned: 312 NO_ROUTE' },
      { status: 'published' },
    ]);
  });

  it('When the broker nacks a message, then it is refused', async () => {
    const publisher = await attachedPublisher(new FakeChannel((index) => (index === 0 ? 'nack' : 'ack')));

    const outcomes = await publisher.publishBatch(messages(2));

    expect(outcomes).toEqual([{ status: 'refused', reason: 'nacked by the broker' }, { status: 'published' }]);
  });

  it('When no confirm arrives in time, then the message failed and the batch still ends', async () => {
    const publisher = await attachedPublisher(new FakeChannel((index) => (index === 0 ? 'none' : 'ack')), {
      confirmTimeoutMs: 50,
    });

    const outcomes = await publisher.publishBatch(messages(2));

    expect(outcomes).toEqual([{ status: 'failed', reason: 'no confirm before the timeout' }, { status: 'published' }]);
  });

  it('When the channel closes with confirms outstanding, then they failed and a new channel is opened', async () => {
    const first = new FakeChannel(() => 'none');
    const second = new FakeChannel(() => 'ack');
    const publisher = new ConfirmPublisher(silentLogger, {
      exchange: 'x',
      confirmTimeoutMs: 5_000,
      reopenDelayMs: 0,
    });
    let readyCount = 0;
    publisher.onReady(() => {
      readyCount += 1;
    });
    await publisher.attach(fakeModel(first, second));

    const batch = publisher.publishBatch(messages(2));
    first.close();

    expect(await batch).toEqual(Array(2).fill({ status: 'failed', reason: 'channel closed' }));
    await waitFor(() => (publisher.isReady() ? true : undefined), { what: 'the channel to be reopened' });
    expect(readyCount).toBe(2);
    expect(await publisher.publishBatch(messages(1))).toEqual([{ status: 'published' }]);
  });

  it('When the socket buffer is full, then the next message waits for drain', async () => {
    const channel = new FakeChannel(
      () => 'ack',
      (index) => index === 0,
    );
    const publisher = await attachedPublisher(channel);

    // The first publish and the wait for 'drain' happen before publishBatch returns its promise.
    const batch = publisher.publishBatch(messages(2));
    const publishedBeforeDrain = channel.published.length;
    channel.emit('drain');

    expect(await batch).toEqual(Array(2).fill({ status: 'published' }));
    expect(publishedBeforeDrain).toBe(1);
  });

  it('When no channel is open, then nothing is sent', async () => {
    const publisher = new ConfirmPublisher(silentLogger, { exchange: 'x', confirmTimeoutMs: 1_000 });

    const outcomes = await publisher.publishBatch(messages(2));

    expect(publisher.isReady()).toBe(false);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['not_sent', 'not_sent']);
  });
});
