import { silentLogger } from '@notify/test-support/logger.js';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createDeliveryAcks } from '../../src/messaging/delivery-acks.js';

type Frame = { method: 'ack' | 'nack' | 'reject'; tag: number; multiple: boolean };

/** A channel that records the frames it is handed, and the outstanding tags the broker would then hold. */
function recordingChannel() {
  const frames: Frame[] = [];
  const outstanding = new Set<number>();
  const settle = (method: Frame['method'], tag: number, multiple: boolean) => {
    // The broker closes the channel on an ack of a tag it does not hold (PRECONDITION_FAILED).
    if (!outstanding.has(tag)) throw new Error(`unknown delivery tag ${tag}`);
    frames.push({ method, tag, multiple });
    for (const held of [...outstanding]) if (held === tag || (multiple && held < tag)) outstanding.delete(held);
  };
  const channel = {
    ack: (message: ConsumeMessage, allUpTo?: boolean) => settle('ack', message.fields.deliveryTag, allUpTo === true),
    nack: (message: ConsumeMessage, allUpTo?: boolean) => settle('nack', message.fields.deliveryTag, allUpTo === true),
    reject: (message: ConsumeMessage) => settle('reject', message.fields.deliveryTag, false),
  } as unknown as Channel;
  return { channel, frames, outstanding };
}

const delivery = (tag: number) => ({ fields: { deliveryTag: tag } }) as unknown as ConsumeMessage;
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

function setUp(count: number, closed = new AbortController().signal) {
  const broker = recordingChannel();
  const acks = createDeliveryAcks(broker.channel, closed, silentLogger);
  const deliveries = Array.from({ length: count }, (_, index) => delivery(index + 1));
  for (const each of deliveries) {
    broker.outstanding.add(each.fields.deliveryTag);
    acks.received(each);
  }
  const sent: number[] = [];
  const ack = (tag: number) => acks.ack(deliveries[tag - 1] as ConsumeMessage, () => sent.push(tag));
  return { ...broker, acks, deliveries, sent, ack };
}

describe('delivery acks', () => {
  it('When deliveries settle in one turn, then one frame acks them all, at the end of the turn', async () => {
    const { frames, outstanding, sent, ack } = setUp(5);

    for (const tag of [3, 1, 5, 2, 4]) ack(tag);
    expect(frames).toEqual([]);
    await endOfTurn();

    expect(frames).toEqual([{ method: 'ack', tag: 5, multiple: true }]);
    expect(outstanding.size).toBe(0);
    expect(sent.sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('When a delivery settles past one still in work, then it is acked alone, and the one in work stays outstanding', async () => {
    const { frames, outstanding, sent, ack } = setUp(4);

    for (const tag of [1, 3, 4]) ack(tag);
    await endOfTurn();

    expect(frames).toEqual([
      { method: 'ack', tag: 3, multiple: false },
      { method: 'ack', tag: 4, multiple: false },
      { method: 'ack', tag: 1, multiple: true },
    ]);
    expect([...outstanding]).toEqual([2]);
    expect(sent.sort()).toEqual([1, 3, 4]);

    ack(2);
    await endOfTurn();
    // Not 4: the broker no longer holds it, and naming it would close the channel.
    expect(frames.at(-1)).toEqual({ method: 'ack', tag: 2, multiple: true });
    expect(outstanding.size).toBe(0);
  });

  it('When a delivery is given back among acked ones, then its nack goes out at once and no ack covers it', async () => {
    const { acks, deliveries, frames, outstanding, ack } = setUp(3);

    ack(1);
    expect(acks.requeue(deliveries[1] as ConsumeMessage, { failed: false })).toBe(true);
    ack(3);
    expect(frames).toEqual([{ method: 'nack', tag: 2, multiple: false }]);
    await endOfTurn();

    expect(frames).toEqual([
      { method: 'nack', tag: 2, multiple: false },
      { method: 'ack', tag: 3, multiple: true },
    ]);
    expect(outstanding.size).toBe(0);
  });

  it('When a delivery that failed is requeued among acked ones, then it goes back as a reject, which RabbitMQ 4.3 counts towards the delivery limit, and no ack covers it', async () => {
    const { acks, deliveries, frames, outstanding, ack } = setUp(3);

    ack(1);
    expect(acks.requeue(deliveries[1] as ConsumeMessage, { failed: true })).toBe(true);
    ack(3);
    await endOfTurn();

    expect(frames).toEqual([
      { method: 'reject', tag: 2, multiple: false },
      { method: 'ack', tag: 3, multiple: true },
    ]);
    expect(outstanding.size).toBe(0);
  });

  it('When the channel closed before the end of the turn, then nothing is acked and no ack is reported as sent', async () => {
    const closed = new AbortController();
    const { acks, deliveries, frames, sent, ack } = setUp(2, closed.signal);

    ack(1);
    closed.abort();
    ack(2);
    await endOfTurn();

    expect(frames).toEqual([]);
    expect(sent).toEqual([]);
    expect(acks.requeue(deliveries[1] as ConsumeMessage, { failed: true })).toBe(false);
  });

  it('When the channel refuses an ack, then the ack is not reported as sent', () => {
    const refusing = {
      ack: () => {
        throw new Error('Channel closing');
      },
    } as unknown as Channel;
    const acks = createDeliveryAcks(refusing, new AbortController().signal, silentLogger);
    const sent: number[] = [];

    acks.received(delivery(1));
    acks.ack(delivery(1), () => sent.push(1));
    acks.flush();

    expect(sent).toEqual([]);
  });

  it('When one delivery stays in work while thousands after it are acked, then every ack still names a tag the broker holds', async () => {
    const { frames, outstanding, ack } = setUp(10_001);

    for (let tag = 2; tag <= 10_001; tag += 1) {
      ack(tag);
      // Settled in turns of a hundred, as settlement statements answer.
      if (tag % 100 === 1) await endOfTurn();
    }
    await endOfTurn();
    expect([...outstanding]).toEqual([1]);
    expect(frames.every((frame) => !frame.multiple)).toBe(true);

    ack(1);
    await endOfTurn();
    expect(frames.at(-1)).toEqual({ method: 'ack', tag: 1, multiple: true });
    expect(outstanding.size).toBe(0);
  });

  it('When deliveries keep arriving after a long wait ended, then they are acked together again', async () => {
    const { frames, outstanding, ack } = setUp(6_000);

    for (let tag = 2; tag <= 5_000; tag += 1) ack(tag);
    await endOfTurn();
    ack(1);
    await endOfTurn();
    const before = frames.length;

    for (let tag = 5_001; tag <= 6_000; tag += 1) ack(tag);
    await endOfTurn();
    expect(frames.slice(before)).toEqual([{ method: 'ack', tag: 6_000, multiple: true }]);
    expect(outstanding.size).toBe(0);
  });
});
