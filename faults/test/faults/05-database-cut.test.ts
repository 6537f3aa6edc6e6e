import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  databaseDownNotSeenBy,
  loadWithFault,
  record,
  SETTLE_DEADLINE_MS,
  startScenarioSystem,
} from '../support/scenario.js';

const SCENARIO = '5. database connection cut 10 s';
const CUT_MS = 10_000;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('database-cut', { proxies: { database: true } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When both services lose PostgreSQL for 10 s, then the API refuses meanwhile and every notification it accepted is sent once', async (context) => {
    const sut = system!;
    const proxy = sut.databaseProxy!;
    let notSeenDown: string[] = [];
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      proxy.cut();
      const cutAt = Date.now();
      // The 503s below show the API lost its database; this shows the handler did too (its
      // readiness probe goes through the same proxy as its statements).
      notSeenDown = await databaseDownNotSeenBy(sut, CUT_MS - 2_000);
      await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
      proxy.restore();
      return Date.now();
    });

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    // Refused with 503, as the API answers what it cannot write: not hung, not accepted and lost.
    const refused = Object.entries(load.stats.errors)
      .filter(([key]) => key.endsWith(': 503'))
      .reduce((sum, [, count]) => sum + count, 0);
    console.log(
      `[faults] ${SCENARIO}: ${refused} requests refused with 503; errors ${JSON.stringify(load.stats.errors)}`,
    );
    for (const name of notSeenDown) report.problems.push(`${name} never reported the database down during the cut`);
    if (refused === 0) report.problems.push('the API refused no request (503) while PostgreSQL was away');
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
