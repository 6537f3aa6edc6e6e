import { verifySystem } from '@notify/test-support/system/verifier.js';
import { describe, expect, test } from 'vitest';
import {
  loadWithFault,
  notReachedBy,
  record,
  SETTLE_DEADLINE_MS,
  scenarioOnOwnRabbitNode,
} from '../support/scenario.js';

const SCENARIO = '4. RabbitMQ node restart';

// On a RabbitMQ node of the scenario's own. Its data folder is kept between stop and start, so its
// quorum queues and their messages survive the restart as they would in production.
describe(SCENARIO, () => {
  const scenario = scenarioOnOwnRabbitNode('broker-restart');

  test('When RabbitMQ is stopped and started again mid-load, then both services reconnect by themselves and every accepted notification is sent once', async (context) => {
    const sut = scenario.system();
    const broker = scenario.node();
    // Stopping and starting a node takes 15-25 s here: the load runs long enough to go on past it.
    const { load, faultEndedAt } = await loadWithFault(
      sut,
      async () => {
        await broker.stop();
        await broker.start();
        return Date.now();
      },
      { durationMs: 40_000, maxCheckouts: 1_000 },
    );

    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    report.problems.push(
      ...notReachedBy([sut.handler, sut.ticketing], 'broker connection lost; reconnecting', 'restart'),
    );
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
