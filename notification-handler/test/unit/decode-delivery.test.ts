import { encodeNotification } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../../src/domain/clock-skew.js';
import { decodeDelivery } from '../../src/messaging/decode-delivery.js';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');

function deliveryOccurredAt(occurredAtMs: number) {
  const message = { ...buildMessage(), occurredAt: new Date(occurredAtMs).toISOString() };
  const { content, properties } = encodeNotification(message, 'decode-delivery-unit');
  return { message, delivery: { content, properties } };
}

describe('decoding a delivery against the handler clock', () => {
  it('When occurredAt is an hour ahead of the handler clock, then the message is refused naming occurredAt and the skew allowed', () => {
    const { message, delivery } = deliveryOccurredAt(NOW + 3_600_000);

    const decoded = decodeDelivery(delivery, NOW);

    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.trackingId).toBe(message.trackingId);
    expect(decoded.error.problems).toEqual([
      {
        code: 'ahead_of_clock',
        path: 'occurredAt',
        message:
          "3600 s ahead of the handler's clock, past the 300 s allowed for clock skew; " +
          'a replay passes from 2026-12-04T12:55:00.000Z',
      },
    ]);
  });

  it('When occurredAt is the whole skew allowance ahead, then it is accepted, and a millisecond further it is refused', () => {
    const atTheAllowance = deliveryOccurredAt(NOW + CLOCK_SKEW_ALLOWANCE_MS);
    const pastTheAllowance = deliveryOccurredAt(NOW + CLOCK_SKEW_ALLOWANCE_MS + 1);

    expect(decodeDelivery(atTheAllowance.delivery, NOW)).toEqual({ ok: true, message: atTheAllowance.message });
    expect(decodeDelivery(pastTheAllowance.delivery, NOW).ok).toBe(false);
  });

  it('When a message refused for its occurredAt is decoded again once that time is within the allowance, then it is accepted (its dead letter can be replayed)', () => {
    const occurredAt = NOW + 3_600_000;
    const { message, delivery } = deliveryOccurredAt(occurredAt);

    expect(decodeDelivery(delivery, NOW).ok).toBe(false);
    expect(decodeDelivery(delivery, occurredAt - CLOCK_SKEW_ALLOWANCE_MS)).toEqual({ ok: true, message });
  });

  it('When the message does not pass the schema, then the schema problem is what comes back', () => {
    const { delivery } = deliveryOccurredAt(NOW);
    const body = { ...JSON.parse(delivery.content.toString()), occurredAt: '0000-01-01T00:00:00Z' };

    const decoded = decodeDelivery({ ...delivery, content: Buffer.from(JSON.stringify(body)) }, NOW);

    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.problems).toMatchObject([{ code: 'schema', path: 'occurredAt' }]);
  });
});
