import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterScenario, inFlightBound, startClusterScenario } from '../support/cluster.js';
import { loadWithFault, record, SETTLE_DEADLINE_MS } from '../support/scenario.js';

const SCENARIO = '22. cluster: rolling restart of the three nodes';

// Each node in turn is stopped (rabbitmqctl stop) and started again, the next one only once the
// work queue has its three replicas online again: what an upgrade does, one node at a time.
describe(SCENARIO, () => {
  let scenario: ClusterScenario | undefined;
  beforeAll(async () => {
    scenario = await startClusterScenario('cluster-rolling-restart');
  });
  afterAll(async () => {
    await scenario?.stop();
  });

  test('When the three nodes restart one after the other mid-load, then the services follow them and every accepted notification is sent once', async (context) => {
    const { cluster, system } = scenario!;
    const steps: string[] = [];
    const { load, faultEndedAt } = await loadWithFault(
      system,
      async (running) => {
        for (const node of cluster.nodes) {
          const startedAt = Date.now();
          await node.stop();
          await node.start();
          await waitFor(
            async () => ((await cluster.replicas(system.topology.queue))?.online.length === 3 ? true : undefined),
            { timeoutMs: 60_000, intervalMs: 250, what: `the work queue's replica on ${node.nodeName} online again` },
          );
          steps.push(`${node.nodeName} ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
        }
        const endedAt = Date.now();
        // The load goes on a little past the last restart (about 4 s), then ends: the cap below
        // only bounds a restart that drags.
        await running.untilCompleted(running.stats.completed + 100);
        void running.stop();
        return endedAt;
      },
      { durationMs: 180_000, maxCheckouts: 4_500 },
    );
    console.log(`[faults] ${SCENARIO}: restarted ${steps.join(', ')}`);

    const bound = inFlightBound(system);
    const report = await verifySystem(system, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: bound,
    });
    record(context, system, SCENARIO, report, load, bound);

    expect(report.problems).toEqual([]);
  });
});
