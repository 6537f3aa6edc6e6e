import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '6. Mailjet failing 30%, hanging, resetting';
const FAULT_MS = 8_000;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('sandbox-faults');
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When the provider fails 30% of calls and hangs or resets some for 8 s, then retries, immediate and delayed, send everything and nothing fails', async (context) => {
    const sut = system!;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      await sut.mailjet.setFaults({ failRate: 0.3, seed: 20_260_601, status: 503, hangNext: 3, resetNext: 5 });
      await sleep(FAULT_MS);
      await sut.mailjet.clearFaults();
      return Date.now();
    });

    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
    });
    const retried = sut.handler.find('email send failed; retrying').length;
    if (retried === 0) report.problems.push('no send was retried: the provider faults did not strike');
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
