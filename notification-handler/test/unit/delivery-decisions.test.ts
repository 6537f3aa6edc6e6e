import { encodeNotification, topologyNames } from '@notify/shared';
import type { OutgoingMessage, PublishOutcome } from '@notify/shared/platform';
import { captureLogs } from '@notify/test-support/logger.js';
import { buildMessage } from '@notify/test-support/messages.js';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it, vi } from 'vitest';
import type { SendNotificationOutcome } from '../../src/domain/send-notification.js';
import type { Decision } from '../../src/messaging/decisions.js';
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
};

function setUp(
  outcome: SendNotificationOutcome,
  publish: (message: OutgoingMessage) => Promise<PublishOutcome>,
  overrides: Overrides = {},
) {
  const logs = captureLogs();
  const ack = vi.fn();
  const nack = vi.fn();
  const on: DeliveryChannel = {
    channel: { ack, nack } as unknown as Channel,
    closed: new AbortController().signal,
    stopWork: new AbortController().signal,
  };
  const decisions: Decision[] = [];
  const decide = createDeliveryDecisions({
    topology,
    handle: overrides.handle ?? (async () => outcome),
    publish,
    log: logs.log,
    requeueDelayMs: overrides.requeueDelayMs ?? 0,
    shutdown: overrides.shutdown ?? new AbortController().signal,
    decided: overrides.decided ?? ((decision) => decisions.push(decision)),
  });
  return { decide, on, ack, nack, decisions, logs };
}

const publishThrows = async (): Promise<PublishOutcome> => {
  throw new Error('channel closed while publishing');
};

describe('delivery decisions when the broker does not take a copy', () => {
  it('When the delayed copy of a rescheduled notification is not published, then the delivery goes back to the queue only after the requeue delay', async () => {
    const stopping = new AbortController();
    const { decide, on, ack, nack, decisions, logs } = setUp(
      { kind: 'rescheduled', reason: 'HTTP 503', delayMs: 1_000, nextAttemptAt: new Date(), redeliveries: 1 },
      async () => ({ status: 'not_sent', reason: 'no broker channel' }),
      { requeueDelayMs: 60_000, shutdown: stopping.signal },
    );

    const decided = decide(on, validDelivery());
    await new Promise((resolve) => setImmediate(resolve));
    const nackedBeforeTheDelay = nack.mock.calls.length;
    stopping.abort();
    await decided;

    expect(nackedBeforeTheDelay).toBe(0);
    expect(ack).not.toHaveBeenCalled();
    expect(nack).toHaveBeenCalledWith(expect.anything(), false, true);
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'rescheduling failed: no broker channel' }]);
    expect(logs.find('rescheduling failed; the message goes back to the queue')).toHaveLength(1);
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
    const { decide, on, ack, nack, decisions, logs } = setUp(
      { kind: 'failed', reason: 'rejected', attempts: 4 },
      publishThrows,
    );

    await expect(decide(on, validDelivery())).resolves.toBeUndefined();

    expect(ack).not.toHaveBeenCalled();
    expect(nack).toHaveBeenCalledWith(expect.anything(), false, true);
    expect(decisions).toMatchObject([{ kind: 'requeued', reason: 'channel closed while publishing' }]);
    expect(logs.find('notification not processed; back to the queue')).toHaveLength(1);
  });

  it('When the dead-letter copy of an invalid message throws, then the delivery goes back to the queue', async () => {
    const { decide, on, ack, nack, decisions } = setUp({ kind: 'sent', attempts: 1 }, publishThrows);

    await expect(
      decide(on, deliveryOf(Buffer.from('{not json'), { contentType: 'application/json' })),
    ).resolves.toBeUndefined();

    expect(ack).not.toHaveBeenCalled();
    expect(nack).toHaveBeenCalledWith(expect.anything(), false, true);
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
    const { decide, on, ack, nack, logs } = setUp({ kind: 'sent', attempts: 1 }, publishThrows, {
      decided: brokenListener,
    });

    await expect(decide(on, validDelivery())).resolves.toBeUndefined();

    expect(ack).toHaveBeenCalledTimes(1);
    expect(nack).not.toHaveBeenCalled();
    expect(logs.find('a listener of decided deliveries failed')).toHaveLength(1);
  });
});
