import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import { waitFor } from '@notify/test-support/wait.js';
import type { GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

/**
 * Messages that parse as JSON but hold what PostgreSQL cannot store: had they passed the schema,
 * recording them would fail the statement (and every message claimed with them) again and again.
 * And one whose event lies further in the future than clock skew explains: taken, it would escape
 * its send deadline and its retention check.
 */
describe('messages refused when decoded: what PostgreSQL could not store, an event from the future', () => {
  let harness: Harness;
  const deadLetters: GetMessage[] = [];

  beforeAll(async () => {
    harness = await startHarness('decode-refusals');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** The dead letter carrying this correlation id; other tests' dead letters are kept for theirs. */
  function deadLetterMarked(marker: string): Promise<GetMessage> {
    return waitFor(
      async () => {
        for (;;) {
          const message = await harness.broker.channel.get(harness.topology.deadLetterQueue, { noAck: true });
          if (message === false) break;
          deadLetters.push(message);
        }
        return deadLetters.find((message) => message.properties.correlationId === marker);
      },
      { timeoutMs: 10_000, what: `the dead letter marked ${marker}` },
    );
  }

  it.each([
    [
      'a NUL in recipient.name',
      { recipient: { email: 'ada@example.com', name: 'Ada\u0000Lovelace' } },
      'recipient.name',
    ],
    [
      'an unpaired surrogate in recipient.name',
      { recipient: { email: 'ada@example.com', name: 'Ada\ud800' } },
      'recipient.name',
    ],
    ['an occurredAt in year 0000', { occurredAt: '0000-01-01T00:00:00Z' }, 'occurredAt'],
    [
      'an occurredAt a day ahead of the clock',
      { occurredAt: new Date(Date.now() + 86_400_000).toISOString() },
      'occurredAt',
    ],
  ])(
    'When a message with %s is published, then it is dead-lettered naming the field and the next good one is sent',
    async (_kind, spoiled, field) => {
      const bad = { ...buildMessage(), ...spoiled };
      const marker = randomUUID();
      const good = buildMessage();

      harness.publishRaw(bad.operation, Buffer.from(JSON.stringify(bad)), {
        contentType: 'application/json',
        persistent: true,
        messageId: bad.trackingId,
        type: bad.operation,
        correlationId: marker,
      });
      harness.publish(good);

      const dead = await deadLetterMarked(marker);
      expect(String(dead.properties.headers?.['x-failure-reason'])).toContain(`${field}:`);
      expect(await harness.settled(good.trackingId)).toMatchObject({ status: 'sent' });
      expect((await harness.api(`/notifications/${bad.trackingId}`)).status).toBe(404);
      expect(harness.emailsFor(bad.trackingId)).toEqual([]);
    },
  );
});
