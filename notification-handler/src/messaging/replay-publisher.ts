import { encodeNotification, type NotificationMessage, type Topology } from '@notify/shared';
import type { OutgoingMessage, PublishOutcome } from '@notify/shared/platform';
import { HEADERS } from './delivery-headers.js';

/**
 * Puts a stored notification back on the handler's own queue for a replay, marked with the time
 * it was asked for (its new deadline counts from then). Straight to the queue through the default
 * exchange: other subscribers of the public exchange must not see the business event again.
 */
export function replayPublisher(
  publish: (message: OutgoingMessage) => Promise<PublishOutcome>,
  topology: Topology,
  appId: string,
) {
  return (message: NotificationMessage, requestedAt: Date): Promise<PublishOutcome> => {
    const encoded = encodeNotification(message, appId);
    const headers = { ...encoded.properties.headers, [HEADERS.replayRequestedAt]: requestedAt.toISOString() };
    return publish({
      exchange: '',
      routingKey: topology.queue,
      content: encoded.content,
      properties: { ...encoded.properties, headers },
    });
  };
}
