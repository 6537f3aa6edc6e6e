import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { deadLetterCopy } from '../../src/messaging/dead-letter.js';

function delivery(properties: Partial<ConsumeMessage['properties']>): ConsumeMessage {
  return {
    content: Buffer.from('{}'),
    fields: { deliveryTag: 1, redelivered: false, exchange: 'ticketing', routingKey: 'checkout.completed' },
    properties: { headers: { 'x-trace-id': 't-1' }, ...properties },
  } as ConsumeMessage;
}

describe('the dead-letter copy of a delivery (published message)', () => {
  it('When the producer gave its message a TTL, then the copy has none, and keeps the rest of its properties', () => {
    const { options } = deadLetterCopy(
      delivery({ expiration: '60000', messageId: 'm-1', contentType: 'application/json', userId: 'producer' }),
      'invalid message: recipient.email',
    );

    expect(options).not.toHaveProperty('expiration');
    expect(options).not.toHaveProperty('userId');
    expect(options).toMatchObject({
      messageId: 'm-1',
      contentType: 'application/json',
      persistent: true,
      headers: {
        'x-trace-id': 't-1',
        'x-failure-reason': 'invalid message: recipient.email',
        'x-original-exchange': 'ticketing',
        'x-original-routing-key': 'checkout.completed',
      },
    });
  });
});
