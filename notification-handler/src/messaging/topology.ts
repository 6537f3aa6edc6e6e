import type { Topology } from '@notify/shared';
import type { Channel } from 'amqplib';

/** Redeliveries after which the broker itself dead-letters a message (a poison loop breaker). */
export const DELIVERY_LIMIT = 20;

/**
 * Declares everything the handler consumes from. Every instance declares the same arguments:
 * RabbitMQ refuses a redeclaration that differs, so changing them means a new queue name.
 */
export async function assertNotificationTopology(channel: Channel, topology: Topology) {
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
}
