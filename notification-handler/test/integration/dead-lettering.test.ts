import { randomUUID } from 'node:crypto';
import { getOne } from '@notify/test-support/broker.js';
import { buildMessage } from '@notify/test-support/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/handler-harness.js';

describe('bad messages (dead-letter queue and logs)', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness('dead-letter');
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const json = { contentType: 'application/json', persistent: true };

  it.each([
    ['not JSON', () => Buffer.from('{"trackingId":'), json, /body is not JSON/],
    [
      'a wrong schema',
      () => Buffer.from(JSON.stringify({ ...buildMessage(), recipient: { email: 'nope', name: 'x' } })),
      json,
      /recipient\.email/,
    ],
    [
      'an unknown schemaVersion',
      () => Buffer.from(JSON.stringify({ ...buildMessage(), schemaVersion: 9 })),
      json,
      /schemaVersion 9 is not understood/,
    ],
    [
      'a wrong content type',
      () => Buffer.from(JSON.stringify(buildMessage())),
      { contentType: 'text/plain' },
      /content type/,
    ],
  ])(
    'When a message has %s, then it lands in the dead-letter queue with the reason and the next good one is sent',
    async (_kind, body, properties, reason) => {
      const marker = randomUUID();
      const invalidBefore = harness.logs.find('invalid message dead-lettered').length;

      harness.publishRaw('checkout.completed', body(), { ...properties, correlationId: marker });
      const good = buildMessage();
      harness.publish(good);

      const dead = await getOne(harness.broker.channel, harness.topology.deadLetterQueue);
      expect(dead.properties.correlationId).toBe(marker);
      expect(String(dead.properties.headers?.['x-failure-reason'])).toMatch(reason);
      expect(await harness.settled(good.trackingId)).toMatchObject({ status: 'sent' });
      expect(harness.logs.find('invalid message dead-lettered')).toHaveLength(invalidBefore + 1);
      expect(
        harness.decisions.filter((d) => d.kind === 'dead-lettered' && reason.test(d.reason)).length,
      ).toBeGreaterThan(0);
    },
  );
});
