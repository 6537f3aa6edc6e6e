import type { Topology } from '@notify/shared';
import type { Channel } from 'amqplib';

/** Redeliveries after which the broker itself dead-letters a message (a poison loop breaker). */
export const DELIVERY_LIMIT = 20;

/** One delay queue per distinct wait of the redelivery schedule; the name says the wait. */
export function delayQueueName(topology: Topology, delayMs: number): string {
  return `${topology.queue}.delay.${delayMs}ms`;
}

/**
 * Declares everything the handler consumes from and publishes to. Every instance declares the same
 * arguments: RabbitMQ refuses a redeclaration that differs, so changing them means a new queue name
 * (which is why a delay queue is named by its wait).
 */
export async function assertNotificationTopology(channel: Channel, topology: Topology, delaysMs: readonly number[]) {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertExchange(topology.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(topology.deadLetterQueue, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum' },
  });
  await channel.bindQueue(topology.deadLetterQueue, topology.deadLetterExchange, '');
  await channel.assertQueue(topology.queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': topology.deadLetterExchange,
      'x-delivery-limit': DELIVERY_LIMIT,
      // Broker-side dead-lettering (delivery limit) then keeps the message until the DLQ has it.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  });
  for (const routingKey of topology.routingKeys) {
    await channel.bindQueue(topology.queue, topology.exchange, routingKey);
  }
  for (const delayMs of delaysMs) await assertDelayQueue(channel, topology, delayMs);
}

/**
 * A delayed retry waits in a queue nobody consumes, whose messages expire after `delayMs` and are
 * dead-lettered through the default exchange straight into the work queue: no plugin, and the
 * public exchange never sees it again. One wait per queue keeps expiry in order (a per-message TTL
 * would wait behind the head of the queue). Quorum with at-least-once dead-lettering: a broker
 * restart or a full work queue keeps the message instead of dropping it.
 */
async function assertDelayQueue(channel: Channel, topology: Topology, delayMs: number) {
  await channel.assertQueue(delayQueueName(topology, delayMs), {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': topology.queue,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  });
}
