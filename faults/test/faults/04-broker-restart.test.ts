import { createRabbitNode, type RabbitNode } from '@notify/test-support/system/rabbitmq-node.js';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '4. RabbitMQ node restart';

// A RabbitMQ node of this scenario's own (own name, ports and data folder): the machine's broker
// on 5672 is never stopped. Its data folder is kept between stop and start, so its quorum queues
// and their messages survive the restart as they would in production.
describe(SCENARIO, () => {
  let node: RabbitNode | undefined;
  let system: System | undefined;
  beforeAll(async () => {
    node = await createRabbitNode({ nodeName: `${inject('runId')}@localhost`, markerDir: inject('rabbitMarkerDir') });
    await node.start();
    system = await startScenarioSystem('broker-restart', { amqpUrl: node.amqpUrl });
  });
  afterAll(async () => {
    try {
      await system?.stop();
    } finally {
      await node?.destroy();
    }
  });

  test('When RabbitMQ is stopped and started again mid-load, then both services reconnect by themselves and every accepted notification is sent once', async (context) => {
    const sut = system!;
    const broker = node!;
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
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
