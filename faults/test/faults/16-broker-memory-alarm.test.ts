import { setTimeout as sleep } from 'node:timers/promises';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, scenarioOnOwnRabbitNode } from '../support/scenario.js';

const ALARM_MS = 20_000;
const SCENARIO = `16. RabbitMQ memory alarm ${ALARM_MS / 1000} s`;

// On a RabbitMQ node of the scenario's own: the alarm blocks every publishing connection of its
// node. A watermark of 0 raises the memory alarm at once; setting the node's own value back clears it.
describe(SCENARIO, () => {
  const scenario = scenarioOnOwnRabbitNode('memory-alarm');

  test('When RabbitMQ blocks publishers mid-load, then the API goes on accepting, the outbox holds the messages, and every one is sent once after the alarm', async (context) => {
    const sut = scenario.system();
    const node = scenario.node();
    let acceptedDuringAlarm = 0;
    let alarmSeen = false;
    const { load, faultEndedAt } = await loadWithFault(sut, async (run) => {
      await node.raiseMemoryAlarm();
      const acceptedBefore = run.accepted.size;
      await sleep(ALARM_MS);
      alarmSeen = await node.memoryAlarmRaised();
      acceptedDuringAlarm = run.accepted.size - acceptedBefore;
      await node.clearMemoryAlarm();
      return Date.now();
    });

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    if (!alarmSeen) report.problems.push('the node had no memory alarm at the end of the fault');
    if (sut.ticketing.find('broker blocked publishing').length === 0)
      report.problems.push('the ticketing service never logged that the broker blocked it');
    if (acceptedDuringAlarm === 0) report.problems.push('the API accepted nothing while the broker was blocked');
    console.log(`[faults] ${SCENARIO}: ${acceptedDuringAlarm} notifications accepted during the alarm`);
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
