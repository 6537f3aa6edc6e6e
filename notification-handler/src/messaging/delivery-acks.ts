import type { Logger } from '@notify/shared/platform';
import type { Channel, ConsumeMessage } from 'amqplib';

export type DeliveryAcks = ReturnType<typeof createDeliveryAcks>;

/**
 * How many acked or requeued tags the window may hold before it is rebuilt of the ones still in
 * work: a delivery in work for an hour must not keep every tag received after it.
 */
const COMPACT_PAST = 4_096;

/**
 * The acks and requeues of one consumer channel. A settlement statement answers for dozens of
 * deliveries at once, and each used to be acked by a frame of its own, encoded by amqplib and taken
 * apart by the broker one by one (the turn's frames already left in one socket write: shared's
 * amqp-write-batching.ts). Here the acks of one burst of work go out as one frame with `multiple`,
 * up to the highest tag below every delivery still in work. A delivery settled past one
 * still in work (waiting for a lease, a retry's interval, the publisher) is acked alone, so that a
 * slow delivery never holds back another's ack; a requeue goes out at once, alone.
 *
 * `multiple` acks every outstanding tag up to the one named: every delivery of the channel must be
 * `received` here, in the order the broker handed them over (its tags grow), before its ack.
 */
export function createDeliveryAcks(
  channel: Pick<Channel, 'ack' | 'nack' | 'reject'>,
  closed: AbortSignal,
  log: Logger,
) {
  /** Tags received, in order, from `head` on: the ones before it are all acked or requeued. */
  let tags: number[] = [];
  let head = 0;
  /** Of the tags from `head` on, the ones acked (or about to be) or requeued. */
  const settled = new Set<number>();
  /** Acks not yet handed to the channel; a flush is queued whenever there are any. */
  let waiting: Array<{ delivery: ConsumeMessage; sent: () => void }> = [];

  /**
   * Passes `head` over the tags settled in a row from it: the highest one, when any, is the tag
   * below which nothing is in work any more.
   */
  function advance(): number {
    let highest = 0;
    while (head < tags.length && settled.has(tags[head] as number)) {
      highest = tags[head] as number;
      settled.delete(highest);
      head += 1;
    }
    return highest;
  }

  /** Only while no ack waits: then every settled tag is written, and only the ones in work are kept. */
  function compact(): void {
    tags = tags.slice(head).filter((tag) => !settled.has(tag));
    head = 0;
    settled.clear();
  }

  /** An ack or nack on a channel that has since closed throws; the broker redelivers that message anyway. */
  function write(action: () => void): boolean {
    if (closed.aborted) return false;
    try {
      action();
      return true;
    } catch (err) {
      log.debug({ err }, 'could not ack or nack a delivery on a closed channel');
      return false;
    }
  }

  function flush(): void {
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    const settledUpTo = advance();
    let upTo: ConsumeMessage | undefined;
    const covered: Array<() => void> = [];
    for (const { delivery, sent } of batch) {
      const tag = delivery.fields.deliveryTag;
      if (tag > settledUpTo) {
        if (write(() => channel.ack(delivery))) sent();
        continue;
      }
      covered.push(sent);
      // The tag named must still be outstanding: one of this batch, never one acked alone before.
      if (upTo === undefined || tag > upTo.fields.deliveryTag) upTo = delivery;
    }
    const last = upTo;
    if (last !== undefined && write(() => channel.ack(last, true))) for (const sent of covered) sent();
    if (head + settled.size > COMPACT_PAST) compact();
  }

  return {
    /** Every delivery of the channel, as it arrives. */
    received(delivery: ConsumeMessage): void {
      tags.push(delivery.fields.deliveryTag);
    },
    /**
     * Acks the delivery with the others settled in this burst of work (by the end of the current
     * turn of the event loop); `sent` is called once its ack is handed to the channel.
     */
    ack(delivery: ConsumeMessage, sent: () => void): void {
      if (closed.aborted) return;
      settled.add(delivery.fields.deliveryTag);
      // The first of a turn queues the flush; a flush that finds nothing waiting (a stop flushed
      // first) does nothing.
      if (waiting.push({ delivery, sent }) === 1) process.nextTick(flush);
    },
    /**
     * Puts the delivery back on the queue, now; true when the frame was handed to the channel. A
     * delivery that failed goes back with `basic.reject`, one only given back (a stop) with
     * `basic.nack`: from RabbitMQ 4.3 only a reject counts towards the work queue's delivery limit,
     * the breaker of a message that fails round after round (before 4.3 both count).
     */
    requeue(delivery: ConsumeMessage, { failed }: { failed: boolean }): boolean {
      const frame = failed ? () => channel.reject(delivery, true) : () => channel.nack(delivery, false, true);
      if (!write(frame)) return false;
      settled.add(delivery.fields.deliveryTag);
      return true;
    },
    /** Hands the waiting acks to the channel now: before the channel is closed on a stop. */
    flush,
  };
}
