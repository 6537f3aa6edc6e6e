import { buildMessage } from '@notify/test-support/messages.js';
import { installRefusingTrigger, REFUSED_NAME_PREFIX } from '@notify/test-support/refusing-trigger.js';
import type { System } from '@notify/test-support/system/system.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithPoison } from '../support/poison.js';
import { record, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '13. poison the database refuses, among good messages';
const GOOD_P99_BOUND_MS = 1_000;

/** Schema-valid messages the database refuses, and ones the schema itself now refuses. */
function poisonMessages() {
  const refusedByDatabase = Array.from({ length: 4 }, (_, n) => {
    const message = buildMessage();
    message.recipient.name = `${REFUSED_NAME_PREFIX} ${n}`;
    return { kind: `database-${n}`, body: JSON.stringify(message), reason: /^database refused: .*not allowed here/ };
  });
  const nul = buildMessage();
  const year0 = buildMessage();
  return [
    ...refusedByDatabase,
    {
      kind: 'nul-in-name',
      body: JSON.stringify({ ...nul, recipient: { ...nul.recipient, name: 'Ada\u0000Lovelace' } }),
      reason: /recipient\.name: must not contain control characters/,
    },
    { kind: 'year-0000', body: JSON.stringify({ ...year0, occurredAt: '0000-01-01T00:00:00Z' }), reason: /occurredAt/ },
  ];
}

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('database-poison');
    await installRefusingTrigger(system.db);
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When messages the database refuses arrive among good ones, then only they are dead-lettered, with the reason, and the good ones go on at once', async (context) => {
    const sut = system!;
    const poison = poisonMessages();
    const { report, load } = await loadWithPoison(sut, poison);
    console.log(`[faults] ${SCENARIO}: good notifications' p99 ${report.p99LatencyMs} ms`);
    if (report.p99LatencyMs === null || report.p99LatencyMs > GOOD_P99_BOUND_MS)
      report.problems.push(`good notifications' p99 is ${report.p99LatencyMs} ms, over ${GOOD_P99_BOUND_MS} ms`);
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
