import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterScenario, inFlightBound, startClusterScenario, workQueueLeader } from '../support/cluster.js';
import { loadWithFault, record, SETTLE_DEADLINE_MS } from '../support/scenario.js';

const SCENARIO = '21. cluster: kill -9 the work queue leader';

// Three RabbitMQ nodes of the scenario's own, two handlers and two ticketing instances each given
// all three. The node that leads the work queue dies without a goodbye, then comes back.
describe(SCENARIO, () => {
  let scenario: ClusterScenario | undefined;
  beforeAll(async () => {
    scenario = await startClusterScenario('cluster-leader-kill');
  });
  afterAll(async () => {
    await scenario?.stop();
  });

  test('When the node leading the work queue is killed mid-load and started again, then another node leads, the clients move on, and every accepted notification is sent once', async (context) => {
    const { cluster, system } = scenario!;
    const before = await workQueueLeader(cluster, system);
    expect(before.members).toHaveLength(3);
    let newLeader = '';
    let electedAfterMs = 0;
    const { load, faultEndedAt } = await loadWithFault(
      system,
      async () => {
        const killed = cluster.node(before.leader);
        const killedAt = Date.now();
        await killed.kill();
        newLeader = await waitFor(
          async () => {
            const { leader } = await workQueueLeader(cluster, system);
            return leader !== before.leader ? leader : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 250, what: 'another node to lead the work queue' },
        );
        electedAfterMs = Date.now() - killedAt;
        await killed.start();
        return Date.now();
      },
      { durationMs: 40_000, maxCheckouts: 1_000 },
    );
    console.log(
      `[faults] ${SCENARIO}: leader ${before.leader} killed; ${newLeader} led after ${electedAfterMs} ms (as seen by polling rabbitmqctl)`,
    );

    const bound = inFlightBound(system);
    const report = await verifySystem(system, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: bound,
    });
    record(context, system, SCENARIO, report, load, bound);

    expect(report.problems).toEqual([]);
    expect((await workQueueLeader(cluster, system)).members).toHaveLength(3);
  });
});
