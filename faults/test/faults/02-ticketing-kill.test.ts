import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '2. kill -9 the ticketing service';

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('ticketing-kill');
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When the ticketing service is killed mid-load and started again, then every accepted notification is sent once', async (context) => {
    const sut = system!;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      await sut.ticketing.kill('SIGKILL');
      await sut.ticketing.start();
      return Date.now();
    });

    // Outbox rows the relay published but had not marked yet are published again: the handler
    // must recognise them by trackingId, so no email goes out twice.
    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      restarted: ['ticketing'],
    });
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
