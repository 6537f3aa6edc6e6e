import type { ConsumeMessage, Options } from 'amqplib';
import { withoutUndefined } from './delivery-headers.js';

const MAX_REASON_LENGTH = 1_000;

/**
 * The message as it came, plus why it was dead-lettered and where it came from. `userId` is
 * dropped: the broker refuses a user id that is not the publishing connection's own. So is a
 * producer's `expiration`: the dead-letter queue is where a message waits for an operator, and a
 * copy that expired there would be gone without a trace (that queue dead-letters nowhere).
 */
export function deadLetterCopy(delivery: ConsumeMessage, reason: string) {
  const { userId: _userId, headers, deliveryMode: _mode, expiration: _ttl, ...properties } = delivery.properties;
  const options: Options.Publish = {
    ...withoutUndefined(properties),
    persistent: true,
    headers: {
      ...headers,
      'x-failure-reason': reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}...` : reason,
      'x-original-exchange': delivery.fields.exchange,
      'x-original-routing-key': delivery.fields.routingKey,
      'x-dead-lettered-at': new Date().toISOString(),
    },
  };
  return { routingKey: delivery.fields.routingKey, content: delivery.content, options };
}
