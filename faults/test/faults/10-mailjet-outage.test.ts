import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

/** Three minutes by default, as a real provider outage lasts; FAULTS_MJ_OUTAGE_MS shortens it for a try. */
const OUTAGE_MS = Math.max(10_000, Number(process.env.FAULTS_MJ_OUTAGE_MS ?? 180_000));
const SCENARIO = `10. Mailjet answering 503 for ${Math.round(OUTAGE_MS / 1000)} s`;
/** After Mailjet is back, every notification is sent within this. */
const RECOVERY_BOUND_MS = 60_000;
const PROBE_MS = 5_000;
const FAILURES_TO_OPEN = 5;
const CONCURRENT_CALLS = 8;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('mailjet-outage', {
      handlerEnv: {
        PROVIDER_BREAKER_FAILURES: String(FAILURES_TO_OPEN),
        PROVIDER_BREAKER_PROBE_MS: String(PROBE_MS),
        MAILJET_MAX_CONCURRENT_CALLS: String(CONCURRENT_CALLS),
      },
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When Mailjet answers 503 for minutes under load, then nothing fails or is dead-lettered, the provider sees only probes, and all is sent within a minute of its return', async (context) => {
    const sut = system!;
    let callsDuringOutage = 0;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      await sut.mailjet.resetStats();
      await sut.mailjet.setFaults({ failRate: 1, seed: 1, status: 503 });
      await sleep(OUTAGE_MS);
      callsDuringOutage = (await sut.mailjet.stats()).calls.total;
      await sut.mailjet.clearFaults();
      return Date.now();
    });

    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
    });
    // Before the breaker opens: the failing run, and the calls already in flight; then one probe per interval.
    const callBound = FAILURES_TO_OPEN + CONCURRENT_CALLS + Math.ceil(OUTAGE_MS / PROBE_MS) + 1;
    console.log(`[faults] ${SCENARIO}: ${callsDuringOutage} provider calls during the outage (bound ${callBound})`);
    if (callsDuringOutage > callBound)
      report.problems.push(`${callsDuringOutage} provider calls during the outage, over the bound of ${callBound}`);
    if (callsDuringOutage === 0) report.problems.push('no provider call during the outage: the fault did not strike');
    if (report.timeToRecoverMs !== null && report.timeToRecoverMs > RECOVERY_BOUND_MS)
      report.problems.push(
        `everything was sent ${report.timeToRecoverMs} ms after Mailjet came back, over ${RECOVERY_BOUND_MS} ms`,
      );
    const opened = sut.handler.find('provider breaker open: pausing consumption, probing').length;
    if (opened === 0) report.problems.push('the provider breaker never opened');
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
