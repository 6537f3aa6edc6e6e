import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '12. Mailjet answering 429 above 3 calls/s';
const THROTTLE_MS = 15_000;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    // The handler allows itself more calls than this Mailjet takes, so that the 429s come.
    system = await startScenarioSystem('mailjet-throttling', {
      handlerEnv: { MAILJET_MAX_CALLS_PER_SECOND: '50', RETRY_MAX_RETRIES: '1' },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When Mailjet throttles calls above its rate, with no Retry-After, then the handler pauses on its own and nothing fails', async (context) => {
    const sut = system!;
    let throttled = 0;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      await sut.mailjet.resetStats();
      // No Retry-After: Mailjet documents none on its 429, so the handler's own pause is what counts.
      await sut.mailjet.setFaults({ maxCallsPerSecond: 3 });
      await sleep(THROTTLE_MS);
      throttled = (await sut.mailjet.stats()).calls.byStatus['429'] ?? 0;
      await sut.mailjet.clearFaults();
      return Date.now();
    });

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    console.log(`[faults] ${SCENARIO}: ${throttled} calls answered 429`);
    if (throttled === 0) report.problems.push('no call was answered 429: the fault did not strike');
    const rescheduled = sut.handler.find('email not sent yet; retry scheduled').length;
    if (rescheduled > 0) report.problems.push(`${rescheduled} notification(s) spent their retries on 429s`);
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
