import { setMaxListeners } from 'node:events';
import { encodeNotification, topologyNames } from '@notify/shared';
import type { OutgoingMessage, PublishOutcome } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it, vi } from 'vitest';
import type { SendNotificationOutcome } from '../../src/domain/send-notification.js';
import type { Decision } from '../../src/messaging/decisions.js';
import { createDeliveryAcks } from '../../src/messaging/delivery-acks.js';
import { createDeliveryDecisions, type DeliveryChannel } from '../../src/messaging/delivery-decisions.js';

const topology = topologyNames('decisions-unit');

function deliveryOf(content: Buffer, properties: Record<string, unknown>): ConsumeMessage {
  return {
    content,
    fields: { deliveryTag: 1, redelivered: false, exchange: topology.exchange, routingKey: 'checkout.completed' },
    properties: { headers: {}, ...properties },
  } as unknown as ConsumeMessage;
}

function validDelivery(): ConsumeMessage {
  const encoded = encodeNotification(buildMessage(), 'decisions-unit');
  return deliveryOf(encoded.content, encoded.properties);
}

type Overrides = {
  decided?: (decision: Decision) => void;
  requeueDelayMs?: number;
  shutdown?: AbortSignal;
  handle?: () => Promise<SendNotificationOutcome>;
  whenPublishable?: (signal: AbortSignal, timeoutMs: number) => Promise<void>;
  holdLimitMs?: number;
};

function setUp(
  outcome: SendNotificationOutcome,
  publish: (message: OutgoingMessage) => Promise<PublishOutcome>,
  overrides: Overrides = {},
) {
  const logs = captureLogs();
  const ack = vi.fn();
  const nack = vi.fn();
  const reject = vi.fn();
  const shutdown = overrides.shutdown ?? new AbortController().signal;
  const closed = new AbortController().signal;
  const on: DeliveryChannel = {
    acks: createDeliveryAcks({ ack, nack, reject } as unknown as Channel, closed, logs.log),
    closed,
    // As in the consumer: work on a delivery stops on shutdown (or when its channel closes).
    stopWork: shutdown,
  };
  const decisions: Decision[] = [];
  const decideOne = createDeliveryDecisions({
    topology,
    handle: overrides.handle ?? (async () => outcome),
    publish,
    whenPublishable: overrides.whenPublishable ?? (async () => undefined),
    holdLimitMs: overrides.holdLimitMs ?? 3_600_000,
    log: logs.log,
    requeueDelayMs: overrides.requeueDelayMs ?? 0,
    decided: overrides.decided ?? ((decision) => decisions.push(decision)),
  });
  // As the consumer does: every delivery is made known to its channel's acks as it arrives, and the
  // acks gathered in a turn are handed to the channel at its end.
  const decide = async (channel: DeliveryChannel, delivery: ConsumeMessage) => {
    channel.acks.received(delivery);
    await decideOne(channel, delivery);
    channel.acks.flush();
  };
  return { decide, on, ack, nack, reject, decisions, logs };
}

const publishThrows = async (): Promise<PublishOutcome> => {
  throw new Error('channel closed while publishing');
};

const rescheduled: SendNotificationOutcome = {
  kind: 'rescheduled',
  reason: 'HTTP 503',
  delayMs: 1_000,
  nextAttemptAt: new Date(),
  redeliveries: 1,
};

/** A publisher that answers each publish with the next outcome given, then `published`. */
function publishAnswering(...outcomes: PublishOutcome[]) {
  const published: OutgoingMessage[] = [];
  const publish = async (message: OutgoingMessage): Promise<PublishOutcome> => {
    published.push(message);
    return outcomes.shift() ?? { status: 'published' };
  };
  return { publish, published };
}

describe('delivery decisions when the broker does not take a copy', () => {
  it('When the delayed copy cannot be published for a while, then the delivery is held, not requeued, and acked once the broker takes the copy', async () => {
    const { publish, published } = publishAnswering(
      { status: 'not_sent', reason: 'the broker blocks publishing (a memory or disk alarm)' },
      { status: 'failed', reason: 'no confirm before the timeout' },
    );
    let publishable: () => void = () => undefined;
    const waits: number[] = [];
    const { decide, on, ack, nack, decisions, logs } = setUp(rescheduled, publish, {
      whenPublishable: (_signal, timeoutMs) => {
        waits.push(timeoutMs);
        return new Promise((resolve) => {
          publishable = resolve;
        });
      },
    });

    const decided = decide(on, validDelivery());
    await vi.waitFor(() => expect(waits).toHaveLength(1));
    publishable();
    await vi.waitFor(() => expect(waits).toHaveLength(2));
    expect(nack).not.toHaveBeenCalled();
    publishable();
    await decided;

    expect(published).toHaveLength(3);
    // The very same message each time: the publisher answers a retry by its own copy confirmed late.
    expect(new Set(published).size).toBe(1);
    expect(nack).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(decisions).toMatchObject([{ kind: 'rescheduled' }]);
    // The wait for the publisher is bounded by the hold limit, an hour here.
    expect(waits[0]).toBeGreaterThan(3_590_000);
    expect(waits[0]).toBeLessThanOrEqual(3_600_000);
    expect(logs.find('delayed copy not published; holding the delivery until the broker takes it')).toHaveLength(1);
    expect(logs.find('delayed copy published after a wait')).toMatchObject([{ attempts: 3 }]);
  });

  it('When the dead-letter copy of a failed notification cannot be published for a while, then the delivery is held and acked once it is', async () => {
    const { publish, published } = publishAnswering({ status: 'not_sent', reason: 'no broker channel' });
    const { decide, on, ack, nack, decisions } = setUp({ kind: 'failed', reason: 'rejected', attempts: 4 }, publish);

    await decide(on, validDelivery());

    expect(published).toMatchObject([
      { exchange: topology.deadLetterExchange },
      { exchange: topology.deadLetterExchange },
    ]);
    expect(nack).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalledTimes(1);
    expect(decisions).toMatchObject([{ kind: 'dead-lettered', cause: 'send_failed' }]);
  });

  it('When the handler stops while a copy waits for the publisher, then the delivery goes back to the queue at once', async () => {
    const stopping = new AbortController();
    const { publish, published } = publishAnswering(
      { status: 'not_sent', reason: 'no broker channel' },
      { status: 'not_sent', reason: 'no broker channel' },
    );
    const { decide, on, ack, nack, reject, decisions, logs } = setUp(rescheduled, publish, {
      requeueDelayMs: 60_000,
      shutdown: stopping.signal,
      whenPublishable: (signal) =>
        new Promise((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve());
        }),
    });

    const decided = decide(on, validDelivery());
    await vi.waitFor(() =>
      expect(logs.find('delayed copy not published; holding the delivery until the broker takes it')).toHaveLength(1),
    );
    stopping.abort();
    await decided;

    expect(published).toHaveLength(1);
    expect(ack).not.toHaveBeenCalled();
    expect(nack).toHaveBeenCalledWith(expect.anything(), false, true);
    // Given back, not failed: from RabbitMQ 4.3 a nack does not count towards the delivery limit.
    expect(reject).not.toHaveBeenCalled();
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'rescheduling failed: no broker channel' }]);
    // A stop hands back what it held: a warning, not an error line per delivery.
    expect(logs.find('rescheduling failed; the message goes back to the queue')).toMatchObject([{ level: 40 }]);
  });

  it('When the hold limit passes before the publisher can publish, then the delivery goes back to the queue', async () => {
    const publish = async (): Promise<PublishOutcome> => ({ status: 'not_sent', reason: 'no broker channel' });
    const { decide, on, ack, nack, reject, decisions } = setUp(rescheduled, publish, {
      holdLimitMs: 50,
      whenPublishable: (_signal, timeoutMs) => new Promise((resolve) => setTimeout(resolve, timeoutMs)),
    });

    const started = Date.now();
    await decide(on, validDelivery());

    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(ack).not.toHaveBeenCalled();
    expect(reject).toHaveBeenCalledWith(expect.anything(), true);
    expect(nack).not.toHaveBeenCalled();
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'rescheduling failed: no broker channel' }]);
  });

  it('When the channel of the delivery closed while it was handled, then no copy is published: the broker gives the delivery back anyway', async () => {
    const { publish, published } = publishAnswering();
    const { decide, on, ack, nack, reject } = setUp(rescheduled, publish);
    const closed = new AbortController();
    closed.abort();

    await decide({ ...on, closed: closed.signal, stopWork: closed.signal }, validDelivery());

    expect(published).toEqual([]);
    expect(ack).not.toHaveBeenCalled();
    expect(nack).not.toHaveBeenCalled();
    expect(reject).not.toHaveBeenCalled();
  });

  it('When the channel closes while many deliveries are held, then each lets go at once: no pause on the shutdown signal (no listener warning), no error line each', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const shutdown = new AbortController();
      const closed = new AbortController();
      // As the consumer makes it: one per channel, listened to by every delivery on it.
      const stopWork = AbortSignal.any([shutdown.signal, closed.signal]);
      setMaxListeners(0, stopWork);
      const publish = async (): Promise<PublishOutcome> => ({
        status: 'not_sent',
        reason: 'the broker blocks publishing (a memory or disk alarm)',
      });
      const { decide, on, ack, nack, reject, decisions, logs } = setUp(rescheduled, publish, {
        shutdown: shutdown.signal,
        requeueDelayMs: 3_600_000,
        whenPublishable: (signal) =>
          new Promise((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
          }),
      });
      const held = { ...on, closed: closed.signal, stopWork };
      let settled = 0;
      const deliveries = Array.from({ length: 12 }, () =>
        decide(held, validDelivery()).finally(() => {
          settled += 1;
        }),
      );
      await vi.waitFor(() =>
        expect(logs.find('delayed copy not published; holding the delivery until the broker takes it')).toHaveLength(
          12,
        ),
      );

      closed.abort();
      // The broker gives every one of them back with the channel: nothing is left to wait for.
      await vi.waitFor(() => expect(settled).toBe(12));
      await Promise.all(deliveries);
      await new Promise((resolve) => setImmediate(resolve));

      expect(ack).not.toHaveBeenCalled();
      expect(nack).not.toHaveBeenCalled();
      expect(reject).not.toHaveBeenCalled();
      expect(decisions).toEqual([]);
      expect(logs.find('rescheduling failed; the message goes back to the queue')).toEqual([]);
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('When the broker refuses the delayed copy, then nothing is held: the delivery goes back to the queue after the requeue delay', async () => {
    const { publish, published } = publishAnswering({ status: 'refused', reason: 'returned: 312 NO_ROUTE' });
    const whenPublishable = vi.fn(async () => undefined);
    const { decide, on, ack, nack, reject, decisions, logs } = setUp(rescheduled, publish, { whenPublishable });

    await decide(on, validDelivery());

    expect(published).toHaveLength(1);
    expect(whenPublishable).not.toHaveBeenCalled();
    expect(ack).not.toHaveBeenCalled();
    expect(reject).toHaveBeenCalledWith(expect.anything(), true);
    expect(nack).not.toHaveBeenCalled();
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'rescheduling failed: returned: 312 NO_ROUTE' }]);
    expect(logs.find('rescheduling failed; the message goes back to the queue')).toMatchObject([{ level: 50 }]);
  });
});

describe('delivery decisions for a message from the future', () => {
  it('When occurredAt is an hour ahead of the handler clock, then the message is dead-lettered as invalid naming occurredAt, and never handled', async () => {
    const published: OutgoingMessage[] = [];
    const { decide, on, ack, decisions, logs } = setUp({ kind: 'sent', attempts: 1 }, async (message) => {
      published.push(message);
      return { status: 'published' };
    });
    const message = { ...buildMessage(), occurredAt: new Date(Date.now() + 3_600_000).toISOString() };
    const encoded = encodeNotification(message, 'decisions-unit');

    await decide(on, deliveryOf(encoded.content, encoded.properties));

    expect(published).toMatchObject([{ exchange: topology.deadLetterExchange }]);
    expect(ack).toHaveBeenCalledTimes(1);
    expect(decisions).toEqual([
      {
        kind: 'dead-lettered',
        trackingId: message.trackingId,
        operation: undefined,
        reason: expect.stringMatching(/^invalid message: occurredAt: \d+ s ahead of the handler's clock/),
        cause: 'invalid_message',
      },
    ]);
    expect(logs.find('invalid message dead-lettered')).toHaveLength(1);
  });
});

describe('delivery decisions when a step throws', () => {
  it('When the dead-letter copy of a failed notification throws, then the delivery goes back to the queue', async () => {
    const { decide, on, ack, nack, reject, decisions, logs } = setUp(
      { kind: 'failed', reason: 'rejected', attempts: 4 },
      publishThrows,
    );

    await expect(decide(on, validDelivery())).resolves.toBeUndefined();

    expect(ack).not.toHaveBeenCalled();
    expect(reject).toHaveBeenCalledWith(expect.anything(), true);
    expect(nack).not.toHaveBeenCalled();
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'channel closed while publishing' }]);
    expect(logs.find('notification not processed; back to the queue')).toHaveLength(1);
  });

  it('When the dead-letter copy of an invalid message throws, then the delivery goes back to the queue', async () => {
    const { decide, on, ack, nack, reject, decisions } = setUp({ kind: 'sent', attempts: 1 }, publishThrows);

    await expect(
      decide(on, deliveryOf(Buffer.from('{not json'), { contentType: 'application/json' })),
    ).resolves.toBeUndefined();

    expect(ack).not.toHaveBeenCalled();
    expect(reject).toHaveBeenCalledWith(expect.anything(), true);
    expect(nack).not.toHaveBeenCalled();
    expect(decisions).toMatchObject([{ kind: 'requeued', operation: undefined }]);
  });

  it('When the error quotes an address, then its line has the address masked in the message and the stack, and the frames as they were', async () => {
    const detail = 'duplicate key value violates unique constraint: Key (recipient)=(ada@example.com) already exists';
    const frame = '    at query (file:///app/node_modules/@notify/shared/dist/platform/database.js:10:5)';
    const databaseError = Object.assign(new Error(detail), { stack: `Error: ${detail}\n${frame}` });
    const { decide, on, logs } = setUp({ kind: 'sent', attempts: 1 }, publishThrows, {
      handle: () => Promise.reject(databaseError),
    });

    await decide(on, validDelivery());

    const [line] = logs.find('notification not processed; back to the queue');
    const masked = 'duplicate key value violates unique constraint: Key (recipient)=(a***@e***.com) already exists';
    expect(line?.err).toMatchObject({ message: masked, stack: `Error: ${masked}\n${frame}` });
    expect(JSON.stringify(logs.lines)).not.toContain('ada@example.com');
  });

  it('When a listener of decisions throws after an ack, then the delivery is not nacked as well', async () => {
    const brokenListener = () => {
      throw new Error('metrics listener broke');
    };
    const { decide, on, ack, nack, reject, logs } = setUp({ kind: 'sent', attempts: 1 }, publishThrows, {
      decided: brokenListener,
    });

    await expect(decide(on, validDelivery())).resolves.toBeUndefined();

    expect(ack).toHaveBeenCalledTimes(1);
    expect(nack).not.toHaveBeenCalled();
    expect(reject).not.toHaveBeenCalled();
    expect(logs.find('a listener of decided deliveries failed')).toHaveLength(1);
  });
});

describe('delivery decisions that give a delivery back', () => {
  it('When the handler stops while the notification is being sent, then the delivery goes back with a nack, not counted as a failure', async () => {
    const stopping = new AbortController();
    stopping.abort();
    const { decide, on, ack, nack, reject, decisions } = setUp({ kind: 'interrupted' }, publishThrows, {
      shutdown: stopping.signal,
    });

    await decide(on, validDelivery());

    expect(ack).not.toHaveBeenCalled();
    expect(reject).not.toHaveBeenCalled();
    expect(nack).toHaveBeenCalledWith(expect.anything(), false, true);
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'interrupted' }]);
  });

  it('When handling throws, then the delivery goes back as a failure (a reject), which the delivery limit counts', async () => {
    const { decide, on, ack, nack, reject, decisions } = setUp({ kind: 'sent', attempts: 1 }, publishThrows, {
      handle: async () => {
        throw new Error('connection terminated unexpectedly');
      },
    });

    await decide(on, validDelivery());

    expect(ack).not.toHaveBeenCalled();
    expect(nack).not.toHaveBeenCalled();
    expect(reject).toHaveBeenCalledWith(expect.anything(), true);
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'connection terminated unexpectedly' }]);
  });
});
