import { delayQueueName, type Topology } from '@notify/shared';
import type { Logger } from '@notify/shared/platform';
import type { Channel, ChannelModel } from 'amqplib';

/** Redeliveries after which the broker itself dead-letters a message (a poison loop breaker). */
export const DELIVERY_LIMIT = 20;

export { delayQueueName };

/**
 * Declares everything the handler consumes from and publishes to. Every instance declares the same
 * arguments: RabbitMQ refuses a redeclaration that differs, so changing them means a new queue name
 * (which is why a delay queue is named by its wait). The dead-letter queue is the exception, see
 * `assertDeadLetterQueue`, which runs first.
 */
export async function assertNotificationTopology(channel: Channel, topology: Topology, delaysMs: readonly number[]) {
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertExchange(topology.deadLetterExchange, 'fanout', { durable: true });
  await channel.checkQueue(topology.deadLetterQueue);
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

/**
 * The dead-letter queue holds at most `maxMessages`; past that the broker refuses new dead letters
 * (reject-publish) rather than dropping the oldest: the handler's dead-lettering is then nacked, and
 * the message goes back to the work queue, where it waits (retried every few seconds, then held by
 * the broker's own at-least-once dead-lettering) until someone drains the dead-letter queue. Nothing
 * is lost; the queue of failures stops growing.
 *
 * A deployment whose dead-letter queue was declared before the bound has it without these arguments
 * (one whose DEAD_LETTER_MAX_MESSAGES changed, with another bound), and RabbitMQ refuses
 * (PRECONDITION_FAILED) a redeclaration that differs. That queue is then kept as it is, and a warning
 * gives the policy that bounds it the same way; where both a policy and the queue's own argument set
 * a bound, RabbitMQ applies the smaller, so a policy can lower a bound but not raise it. Declared on
 * a channel of its own, since the refusal closes the channel.
 */
export async function assertDeadLetterQueue(
  model: ChannelModel,
  topology: Topology,
  maxMessages: number,
  log: Logger,
): Promise<'bounded' | 'kept as declared'> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.assertQueue(topology.deadLetterQueue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-max-length': maxMessages, 'x-overflow': 'reject-publish' },
    });
    return 'bounded';
  } catch (error) {
    if ((error as { code?: number }).code !== 406) throw error;
    log.warn(
      { queue: topology.deadLetterQueue, maxMessages, policy: deadLetterPolicyCommand(topology, maxMessages) },
      'the dead-letter queue exists with other arguments (declared before its length bound, or with another DEAD_LETTER_MAX_MESSAGES); kept as it is: bound it with this policy',
    );
    return 'kept as declared';
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** The operator's command that bounds an existing dead-letter queue like a new one. */
export function deadLetterPolicyCommand(topology: Topology, maxMessages: number): string {
  const pattern = `^${topology.deadLetterQueue.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const definition = JSON.stringify({ 'max-length': maxMessages, overflow: 'reject-publish' });
  return `rabbitmqctl set_policy --apply-to queues notify-dead-letter-bound '${pattern}' '${definition}'`;
}
