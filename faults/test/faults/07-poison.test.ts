import { randomUUID } from 'node:crypto';
import { buildMessage } from '@notify/test-support/messages.js';
import type { System } from '@notify/test-support/system/system.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithPoison } from '../support/poison.js';
import { record, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '7. poison from a foreign client';

/** What another producer might get wrong, each tagged (header x-poison) and with the reason it must be dead-lettered for. */
function poisonMessages() {
  const valid = (overrides: Record<string, unknown> = {}) => JSON.stringify({ ...buildMessage(), ...overrides });
  return [
    {
      kind: 'invalid-json',
      body: '{"schemaVersion": 1, "trackingId": ',
      contentType: 'application/json',
      reason: /body is not JSON/,
    },
    {
      kind: 'wrong-schema',
      body: JSON.stringify({
        schemaVersion: 1,
        trackingId: randomUUID(),
        operation: 'checkout.completed',
        recipient: 'nobody',
      }),
      contentType: 'application/json',
      reason: /recipient/,
    },
    {
      kind: 'wrong-content-type',
      body: valid(),
      contentType: 'text/plain',
      reason: /content type must be application\/json/,
    },
    {
      kind: 'too-large',
      body: Buffer.alloc(10 * 1024 * 1024, 'x'),
      contentType: 'application/json',
      reason: /bytes, over/,
    },
    {
      kind: 'unknown-version',
      body: valid({ schemaVersion: 2 }),
      contentType: 'application/json',
      reason: /schemaVersion 2 is not understood/,
    },
  ];
}

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('poison');
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When a foreign client publishes poison to the exchange mid-load, then each one is dead-lettered with its reason and the good traffic is all sent once', async (context) => {
    const sut = system!;
    const poison = poisonMessages();
    const { report, load } = await loadWithPoison(sut, poison);
    const warned = sut.handler.find('invalid message dead-lettered').filter((line) => line.level === 40);
    if (
      warned.length !== poison.length ||
      !warned.every((line) => Array.isArray(line.reasons) && line.reasons.length > 0)
    ) {
      report.problems.push(
        `handler logged ${warned.length} "invalid message dead-lettered" warnings with reasons, expected ${poison.length}`,
      );
    }
    if (report.unconfirmedRows > 0)
      report.problems.push(`${report.unconfirmedRows} notification row(s) not from the API: poison got processed`);
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
