import { decodeNotification, encodeNotification, MessageDecodeError } from '@notify/shared';
import { buildMessage } from '@notify/test-support/messages.js';
import { describe, expect, it } from 'vitest';

const asDelivery = (
  content: Buffer | string,
  properties: Record<string, unknown> = { contentType: 'application/json' },
) => ({
  content: Buffer.isBuffer(content) ? content : Buffer.from(content),
  properties,
});

describe('AMQP codec', () => {
  it('When a message is encoded then decoded, then the same message comes back', () => {
    const message = buildMessage('ticket.added_to_checkout');
    const encoded = encodeNotification(message, 'ticketing-service');

    const decoded = decodeNotification(asDelivery(encoded.content, encoded.properties));

    expect(decoded).toEqual({ ok: true, message });
  });

  it('When a message is encoded, then its AMQP properties identify and protect it', () => {
    const message = buildMessage('checkout.completed');
    const { routingKey, properties } = encodeNotification(message, 'ticketing-service');

    expect(routingKey).toBe('checkout.completed');
    expect(properties).toMatchObject({
      messageId: message.trackingId,
      type: 'checkout.completed',
      contentType: 'application/json',
      persistent: true,
      mandatory: true,
      appId: 'ticketing-service',
      timestamp: Math.floor(Date.parse(message.occurredAt) / 1000),
    });
  });

  it('When a traceparent is given, then it travels as the AMQP header of that name, next to the schema version', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    expect(encodeNotification(buildMessage(), 'test', { traceparent }).properties.headers).toEqual({
      'x-schema-version': 1,
      traceparent,
    });
    expect(encodeNotification(buildMessage(), 'test').properties.headers).toEqual({ 'x-schema-version': 1 });
  });

  it('When an invalid message is encoded, then it throws instead of publishing it', () => {
    const message = { ...buildMessage(), trackingId: 'nope' };
    expect(() => encodeNotification(message, 'test')).toThrow(/trackingId/);
  });

  it('When the body is not JSON, then the error says so', () => {
    const result = decodeNotification(asDelivery('{"trackingId": '));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.problems.map((p) => p.code)).toEqual(['bad_json']);
  });

  it('When the content type is wrong and the schema too, then every problem is reported', () => {
    const { trackingId } = buildMessage();
    const body = JSON.stringify({ schemaVersion: 1, trackingId, operation: 'checkout.completed' });

    const result = decodeNotification(asDelivery(body, { contentType: 'text/plain' }));

    if (result.ok) throw new Error('expected a failure');
    expect(result.error).toBeInstanceOf(MessageDecodeError);
    expect(result.error.trackingId).toBe(trackingId);
    const codes = result.error.problems.map((p) => p.code);
    expect(codes[0]).toBe('content_type');
    expect(codes).toContain('schema');
    expect(result.error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['occurredAt', 'recipient', 'content']),
    );
  });

  it('When the schemaVersion is unknown, then it is told apart from a schema error', () => {
    const message = { ...buildMessage(), schemaVersion: 7 };
    const result = decodeNotification(asDelivery(JSON.stringify(message)));
    expect(!result.ok && result.error.problems).toEqual([expect.objectContaining({ code: 'unknown_schema_version' })]);
  });

  it('When the body is over the size bound, then it is refused before parsing', () => {
    const result = decodeNotification(asDelivery(Buffer.alloc(70_000, 'a')));
    expect(!result.ok && result.error.problems.map((p) => p.code)).toEqual(['too_large']);
  });

  it('When the AMQP messageId contradicts the trackingId, then the message is refused', () => {
    const encoded = encodeNotification(buildMessage(), 'test');
    const result = decodeNotification(
      asDelivery(encoded.content, { ...encoded.properties, messageId: crypto.randomUUID() }),
    );
    expect(!result.ok && result.error.problems).toEqual([expect.objectContaining({ path: 'messageId' })]);
  });

  it('When the x-schema-version header contradicts the body, then the message is refused', () => {
    const encoded = encodeNotification(buildMessage(), 'test');
    const result = decodeNotification(
      asDelivery(encoded.content, { ...encoded.properties, headers: { 'x-schema-version': 2 } }),
    );
    expect(!result.ok && result.error.problems).toEqual([
      expect.objectContaining({ code: 'property_mismatch', path: 'x-schema-version' }),
    ]);
    const asText = decodeNotification(
      asDelivery(encoded.content, { ...encoded.properties, headers: { 'x-schema-version': '1' } }),
    );
    expect(asText).toMatchObject({ ok: true });
  });

  it('When the content type names a charset other than UTF-8, then the message is refused; UTF-8 or none is read', () => {
    const encoded = encodeNotification(buildMessage(), 'test');
    const withType = (contentType: string) =>
      decodeNotification(asDelivery(encoded.content, { ...encoded.properties, contentType }));

    expect(withType('application/json; charset=latin1')).toMatchObject({ ok: false });
    expect(withType('application/json; charset=UTF-8')).toMatchObject({ ok: true });
    expect(withType('application/json;charset="utf8"')).toMatchObject({ ok: true });
    expect(withType('application/json')).toMatchObject({ ok: true });
  });

  it('When a producer writes the trackingId and messageId in capitals, then it decodes with the id in lower case', () => {
    const message = buildMessage();
    const capitals = message.trackingId.toUpperCase();

    const result = decodeNotification(
      asDelivery(JSON.stringify({ ...message, trackingId: capitals }), {
        contentType: 'application/json',
        messageId: capitals,
      }),
    );

    expect(result).toEqual({ ok: true, message });
  });
});
