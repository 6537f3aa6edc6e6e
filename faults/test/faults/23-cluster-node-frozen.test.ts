import { setTimeout as sleep } from 'node:timers/promises';
import { signal } from '@notify/test-support/system/rabbitmq-cluster.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterScenario, inFlightBound, startClusterScenario, workQueueLeader } from '../support/cluster.js';
import { loadWithFault, record, SETTLE_DEADLINE_MS } from '../support/scenario.js';

const SCENARIO = '23. cluster: a node frozen 20 s';
const FROZEN_MS = 20_000;

// SIGSTOP of the Erlang process leading the work queue: its sockets stay open and nothing answers,
// as in a long GC pause or a stalled VM. Clients on it notice by heartbeat (5 s here), the other two
// nodes elect a new leader; SIGCONT after 20 s (short of the 60 s net_ticktime: no partition).
// While it is frozen, RabbitMQ 3.10's metadata store (Mnesia) still counts it as up and waits for
// it: a client that reconnects elsewhere waits in its setup (queue and binding declarations) until
// the node is back, and the messages its consumers held stay with them. Clients already on a live
// node go on: the test asks that emails were sent while the node was frozen.
describe(SCENARIO, () => {
  let scenario: ClusterScenario | undefined;
  beforeAll(async () => {
    scenario = await startClusterScenario('cluster-node-frozen');
  });
  afterAll(async () => {
    await scenario?.stop();
  });

  test('When the node leading the work queue freezes for 20 s mid-load, then the clients on the other nodes go on sending and nothing is lost', async (context) => {
    const { cluster, system } = scenario!;
    const before = await workQueueLeader(cluster, system);
    const frozen = cluster.node(before.leader);
    const reconnectsBefore = reconnections(system);
    let frozenAt = 0;
    const { load, faultEndedAt } = await loadWithFault(
      system,
      async () => {
        frozenAt = Date.now();
        signal(frozen, 'SIGSTOP');
        try {
          // The fault's own length, as in the other outage scenarios.
          await sleep(FROZEN_MS);
        } finally {
          signal(frozen, 'SIGCONT');
        }
        return Date.now();
      },
      { durationMs: 40_000, maxCheckouts: 1_000 },
    );
    const sentWhileFrozen = await sentBetween(system, frozenAt, faultEndedAt);
    const after = await workQueueLeader(cluster, system);
    const moved = reconnections(system) - reconnectsBefore;
    console.log(
      `[faults] ${SCENARIO}: ${before.leader} frozen ${FROZEN_MS} ms; ${sentWhileFrozen} email(s) sent meanwhile; ` +
        `${moved} client reconnection(s); the work queue is now led by ${after.leader}`,
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
    expect(sentWhileFrozen).toBeGreaterThan(0);
  });
});

/** Connections the services opened again after losing one, from their log lines. */
function reconnections(system: ClusterScenario['system']): number {
  return system.processes.reduce(
    (sum, process) => sum + process.find('broker connection lost; reconnecting').length,
    0,
  );
}

async function sentBetween(system: ClusterScenario['system'], from: number, to: number): Promise<number> {
  const { rows } = await system.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notifications.notifications
     WHERE sent_at >= to_timestamp($1::float8 / 1000) AND sent_at < to_timestamp($2::float8 / 1000)`,
    [from, to],
  );
  return rows[0]?.n ?? 0;
}
