import { EventEmitter } from 'node:events';
import { ConfirmPublisher, type OutgoingMessage, type PublisherSettings } from '@notify/shared/platform';
import { silentLogger } from '@notify/test-support/logger.js';
import { waitFor } from '@notify/test-support/wait.js';
import type { ChannelModel, Options } from 'amqplib';
import { describe, expect, it, vi } from 'vitest';

type Answer = 'ack' | 'nack' | 'return' | 'none' | 'hold';
type Published = {
  exchange: string;
  routingKey: string;
  properties: Options.Publish;
  confirm: (err: Error | null) => void;
};

/** Just enough of an amqplib confirm channel: answers each publish the way the test says. */
class FakeChannel extends EventEmitter {
  readonly published: Published[] = [];
  readonly asserted: string[] = [];
  closed = false;
  constructor(
    private readonly answer: (index: number) => Answer,
    private readonly bufferFull: (index: number) => boolean = () => false,
  ) {
    super();
  }

  async assertExchange(name: string) {
    this.asserted.push(name);
    return { exchange: name };
  }

  publish(
    exchange: string,
    routingKey: string,
    _content: Buffer,
    properties: Options.Publish,
    confirm: (err: Error | null) => void,
  ): boolean {
    if (this.closed) throw new Error('Channel closed');
    const index = this.published.length;
    this.published.push({ exchange, routingKey, properties, confirm });
    const answer = this.answer(index);
    if (answer !== 'hold') setImmediate(() => this.respond(index, answer));
    return !this.bufferFull(index);
  }

  respond(index: number, answer: Answer): void {
    const published = this.published[index]!;
    if (answer === 'none' || answer === 'hold' || this.closed) return;
    if (answer === 'return') this.returnMessage(index);
    published.confirm(answer === 'nack' ? new Error('message nacked') : null);
  }

  /** RabbitMQ returns an unroutable mandatory message before it acks it. */
  returnMessage(index: number): void {
    const { exchange, routingKey, properties } = this.published[index]!;
    this.emit('return', {
      fields: { replyCode: 312, replyText: 'NO_ROUTE', exchange, routingKey },
      properties: { messageId: properties.messageId },
      content: Buffer.alloc(0),
    });
  }

  /** Like amqplib: 'error' (when the broker closed it), then unconfirmed callbacks fail, then 'close'. */
  close(brokerError?: Error & { code: number }): void {
    if (brokerError) this.emit('error', brokerError);
    this.closed = true;
    for (const { confirm } of this.published) confirm(new Error('channel closed'));
    this.emit('close');
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

function message(index: number, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    exchange: 'test.ticketing.events',
    routingKey: 'checkout.completed',
    content: Buffer.from(`{"n":${index}}`),
    properties: { messageId: `tracking-${index}`, persistent: true },
    ...overrides,
  };
}

function messages(count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, index) => message(index));
}

const SETTINGS: PublisherSettings = { confirmTimeoutMs: 5_000, reopenDelayMs: 0 };

async function attachedPublisher(channels: FakeChannel[], settings: Partial<PublisherSettings> = {}) {
  const publisher = new ConfirmPublisher(silentLogger, { ...SETTINGS, ...settings });
  await publisher.attach(fakeModel(...channels));
  return publisher;
}

describe('ConfirmPublisher', () => {
  it('When the broker acks every message, then each is published, sent as mandatory', async () => {
    const channel = new FakeChannel(() => 'ack');
    const publisher = await attachedPublisher([channel]);

    const outcomes = await publisher.publishBatch([message(0), message(1, { properties: { mandatory: false } })]);

    expect(outcomes).toEqual([{ status: 'published' }, { status: 'published' }]);
    expect(channel.published.map((sent) => sent.properties.mandatory)).toEqual([true, true]);
  });

  it('When a message comes back as a return before its ack, then it is refused, not published', async () => {
    const publisher = await attachedPublisher([new FakeChannel((index) => (index === 1 ? 'return' : 'ack'))]);

    const outcomes = await publisher.publishBatch(messages(3));

    expect(outcomes).toEqual([
      { status: 'published' },
      { status: 'refused', reason: 'returned: 312 NO_ROUTE' },
      { status: 'published' },
    ]);
  });

  it('When the broker nacks a message, then it is refused', async () => {
    const publisher = await attachedPublisher([new FakeChannel((index) => (index === 0 ? 'nack' : 'ack'))]);

    const outcomes = await publisher.publishBatch(messages(2));

    expect(outcomes).toEqual([{ status: 'refused', reason: 'nacked by the broker' }, { status: 'published' }]);
  });

  it('When no confirm arrives in time, then the message failed and the batch still ends', async () => {
    const channel = new FakeChannel((index) => (index === 0 ? 'none' : 'ack'));
    const publisher = await attachedPublisher([channel], { confirmTimeoutMs: 50 });

    const outcomes = await publisher.publishBatch(messages(2));

    expect(outcomes).toEqual([{ status: 'failed', reason: 'no confirm before the timeout' }, { status: 'published' }]);
  });

  it('When the channel closes with confirms outstanding, then they failed and a new channel is opened', async () => {
    const first = new FakeChannel(() => 'none');
    const second = new FakeChannel(() => 'ack');
    const publisher = new ConfirmPublisher(silentLogger, SETTINGS);
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

  it('When the broker closes the channel for a missing exchange, then publishes to it are refused, the others failed', async () => {
    const first = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([first, new FakeChannel(() => 'ack')]);

    const toMissing = publisher.publish(message(0, { exchange: 'test.missing' }));
    const toOther = publisher.publish(message(1, { exchange: '', routingKey: 'test.queue' }));
    const notFound = Object.assign(
      new Error(
        `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange 'test.missing' in vhost '/'"`,
      ),
      { code: 404 },
    );
    first.close(notFound);

    expect(await toMissing).toEqual({
      status: 'refused',
      reason: "NOT_FOUND - no exchange 'test.missing' in vhost '/'",
    });
    expect(await toOther).toEqual({
      status: 'failed',
      reason: "channel closed: NOT_FOUND - no exchange 'test.missing' in vhost '/'",
    });
    await waitFor(() => (publisher.isReady() ? true : undefined), { what: 'the channel to be reopened' });
  });

  it('When the same message id goes to two destinations at once, then a return refuses only the one returned', async () => {
    // A dead-letter copy and a reschedule of one notification: same messageId, other exchanges.
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);

    const deadLetter = publisher.publish(message(0, { exchange: 'test.dead-letters', routingKey: 'failed' }));
    const reschedule = publisher.publish(message(0, { exchange: '', routingKey: 'test.delay-2s' }));
    expect(channel.published).toHaveLength(2);
    channel.returnMessage(1);
    channel.respond(0, 'ack');
    channel.respond(1, 'ack');

    expect(await deadLetter).toEqual({ status: 'published' });
    expect(await reschedule).toEqual({ status: 'refused', reason: 'returned: 312 NO_ROUTE' });
  });

  it('When the very same message is published twice at once and the first is routed, then the first copy answers both: one copy on the broker', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);

    const first = publisher.publish(message(0));
    const second = publisher.publish(message(0));
    expect(channel.published).toHaveLength(1);
    channel.respond(0, 'ack');

    expect(await first).toEqual({ status: 'published' });
    expect(await second).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(1);
  });

  it('When two messages without a messageId go to one destination at once, then each is its own copy, even with the same bytes', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);
    const anonymous = message(0, { properties: { persistent: true } });

    const first = publisher.publish(anonymous);
    const second = publisher.publish({ ...anonymous });
    channel.respond(0, 'ack');
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the second publish' });
    channel.respond(1, 'ack');

    expect(await first).toEqual({ status: 'published' });
    expect(await second).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(2);
  });

  it('When a message with the same messageId but other bytes follows one that was routed, then it is a copy of its own', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);

    const first = publisher.publish(message(0));
    const second = publisher.publish(message(0, { content: Buffer.from('{"n":"other"}') }));
    channel.respond(0, 'ack');
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the second publish' });
    channel.respond(1, 'ack');

    expect(await first).toEqual({ status: 'published' });
    expect(await second).toEqual({ status: 'published' });
  });

  it('When the very same message is published twice at once and the first comes back, then the second is handed over once the first is answered', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);

    const first = publisher.publish(message(0));
    const second = publisher.publish(message(0));
    expect(channel.published).toHaveLength(1);
    channel.respond(0, 'return');
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the second publish' });
    channel.respond(1, 'ack');

    expect(await first).toEqual({ status: 'refused', reason: 'returned: 312 NO_ROUTE' });
    expect(await second).toEqual({ status: 'published' });
  });

  it('When the very same message is published three times at once, then only one copy is unconfirmed at a time, and the first routed copy answers the rest', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel]);

    const [first, second, third] = [0, 1, 2].map(() => publisher.publish(message(0)));
    channel.respond(0, 'return');
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the second publish' });
    // Both waiters saw the first answered; only one of them may take the key.
    await new Promise((resolve) => setImmediate(resolve));
    expect(channel.published).toHaveLength(2);
    channel.respond(1, 'ack');

    expect(await first).toEqual({ status: 'refused', reason: 'returned: 312 NO_ROUTE' });
    expect(await second).toEqual({ status: 'published' });
    expect(await third).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(2);
  });

  it('When a publish timed out waiting for its confirm and the same message is published again, then the late confirm of the first copy answers the second: no second copy', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel], { confirmTimeoutMs: 30 });

    const first = await publisher.publish(message(0));
    const again = publisher.publish(message(0));
    channel.respond(0, 'ack');

    expect(first).toEqual({ status: 'failed', reason: 'no confirm before the timeout' });
    expect(await again).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(1);
  });

  it('When a publish timed out and its late confirm came before the caller tried that same message again, then the retry is answered by that copy: no second copy', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel], { confirmTimeoutMs: 30 });
    const held = message(0);

    const first = await publisher.publish(held);
    // The alarm clears while the caller pauses before its retry: the first copy is confirmed now.
    channel.respond(0, 'ack');
    await new Promise((resolve) => setImmediate(resolve));
    const again = await publisher.publish(held);

    expect(first).toEqual({ status: 'failed', reason: 'no confirm before the timeout' });
    expect(again).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(1);
  });

  it('When a publish timed out and was confirmed late, then another message with the same destination, id and bytes (a replay asked again) is a copy of its own', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel], { confirmTimeoutMs: 30 });

    expect(await publisher.publish(message(0))).toEqual({ status: 'failed', reason: 'no confirm before the timeout' });
    channel.respond(0, 'ack');
    await new Promise((resolve) => setImmediate(resolve));
    const other = publisher.publish(message(0));
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the second publish' });
    channel.respond(1, 'ack');

    expect(await other).toEqual({ status: 'published' });
  });

  it('When a publish timed out and the broker refused it late, then a retry of that message is a copy of its own', async () => {
    const channel = new FakeChannel(() => 'hold');
    const publisher = await attachedPublisher([channel], { confirmTimeoutMs: 30 });
    const held = message(0);

    await publisher.publish(held);
    channel.respond(0, 'nack');
    await new Promise((resolve) => setImmediate(resolve));
    const again = publisher.publish(held);
    await waitFor(() => (channel.published.length === 2 ? true : undefined), { what: 'the retry' });
    channel.respond(1, 'ack');

    expect(await again).toEqual({ status: 'published' });
  });

  it('When the socket buffer is full, then the next message waits for drain', async () => {
    const channel = new FakeChannel(
      () => 'ack',
      (index) => index === 0,
    );
    const publisher = await attachedPublisher([channel]);

    // The first publish and the wait for 'drain' happen before publishBatch returns its promise.
    const batch = publisher.publishBatch(messages(2));
    const publishedBeforeDrain = channel.published.length;
    channel.emit('drain');

    expect(await batch).toEqual(Array(2).fill({ status: 'published' }));
    expect(publishedBeforeDrain).toBe(1);
  });

  it('When exchanges to assert are set, then each channel asserts them; when not, none', async () => {
    const first = new FakeChannel(() => 'ack');
    const second = new FakeChannel(() => 'ack');
    const bare = new FakeChannel(() => 'ack');
    await attachedPublisher([first, second], { assertExchanges: [{ name: 'test.events', type: 'topic' }] });
    first.close();
    await waitFor(() => (second.asserted.length > 0 ? true : undefined), { what: 'the reopened channel' });
    await attachedPublisher([bare]);

    expect(first.asserted).toEqual(['test.events']);
    expect(second.asserted).toEqual(['test.events']);
    expect(bare.asserted).toEqual([]);
  });

  it('When no channel is open, then nothing is sent', async () => {
    const publisher = new ConfirmPublisher(silentLogger, SETTINGS);

    const outcomes = await publisher.publishBatch(messages(2));

    expect(publisher.isReady()).toBe(false);
    expect(outcomes).toEqual(Array(2).fill({ status: 'not_sent', reason: 'no broker channel' }));
  });

  it('When the publisher is closed, then it sends nothing and does not reopen its channel', async () => {
    vi.useFakeTimers();
    try {
      const channel = new FakeChannel(() => 'ack');
      const spare = new FakeChannel(() => 'ack');
      const publisher = await attachedPublisher([channel, spare]);

      publisher.close();
      channel.close();
      await vi.runAllTimersAsync();

      expect(publisher.isReady()).toBe(false);
      expect(spare.listenerCount('close')).toBe(0);
      expect(await publisher.publish(message(0))).toEqual({ status: 'not_sent', reason: 'no broker channel' });
      expect(channel.published).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('When the broker blocks the connection, then publishes are refused unsent until it unblocks, and waiters and ready listeners hear the unblock', async () => {
    const channel = new FakeChannel(() => 'ack');
    const model = fakeModel(channel);
    const publisher = new ConfirmPublisher(silentLogger, SETTINGS);
    await publisher.attach(model);
    const readyCalls = vi.fn();
    publisher.onReady(readyCalls);

    model.emit('blocked', 'low on memory');
    const whileBlocked = await publisher.publishBatch(messages(2));
    let waited = false;
    const waiting = publisher.whenPublishable(new AbortController().signal).then(() => {
      waited = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const waitedBeforeUnblock = waited;
    model.emit('unblocked');
    await waiting;

    expect(whileBlocked).toEqual(
      Array(2).fill({ status: 'not_sent', reason: 'the broker blocks publishing (a memory or disk alarm)' }),
    );
    expect(waitedBeforeUnblock).toBe(false);
    expect(readyCalls).toHaveBeenCalledTimes(1);
    expect(publisher.isReady()).toBe(true);
    expect(publisher.canPublish()).toBe(true);
    expect(await publisher.publish(message(0))).toEqual({ status: 'published' });
    expect(channel.published).toHaveLength(1);
  });

  it('When the connection that was blocked is replaced by a new one, then the new one publishes', async () => {
    const first = fakeModel(new FakeChannel(() => 'ack'));
    const publisher = new ConfirmPublisher(silentLogger, SETTINGS);
    await publisher.attach(first);
    first.emit('blocked', 'low on disk');
    expect(publisher.canPublish()).toBe(false);

    first.emit('close');
    await publisher.attach(fakeModel(new FakeChannel(() => 'ack')));

    expect(publisher.canPublish()).toBe(true);
    expect(await publisher.publish(message(0))).toEqual({ status: 'published' });
  });

  it('When nothing can be published, then a wait for it ends at its timeout, on abort, or when the publisher closes', async () => {
    const publisher = new ConfirmPublisher(silentLogger, SETTINGS);
    const started = Date.now();
    await publisher.whenPublishable(new AbortController().signal, 30);
    const timedOutAfter = Date.now() - started;

    const aborting = new AbortController();
    const aborted = publisher.whenPublishable(aborting.signal);
    aborting.abort();
    await aborted;
    const closing = publisher.whenPublishable(new AbortController().signal);
    publisher.close();
    await closing;

    expect(timedOutAfter).toBeGreaterThanOrEqual(25);
    expect(publisher.canPublish()).toBe(false);
  });
});
