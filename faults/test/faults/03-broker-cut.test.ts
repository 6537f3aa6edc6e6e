import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, notReachedBy, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '3. broker connection cut 10 s';
const CUT_MS = 10_000;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('broker-cut', { proxies: { broker: true } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When both services lose RabbitMQ for 10 s, then they reconnect by themselves and every accepted notification is sent once', async (context) => {
    const sut = system!;
    const proxy = sut.brokerProxy!;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      proxy.cut();
      await sleep(CUT_MS);
      proxy.restore();
      return Date.now();
    });

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    report.problems.push(...notReachedBy([sut.handler, sut.ticketing], 'broker connection lost; reconnecting', 'cut'));
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
