import { setTimeout as sleep } from 'node:timers/promises';
import { signal } from '@notify/test-support/system/rabbitmq-cluster.js';
import type { ServiceProcess } from '@notify/test-support/system/service-process.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterScenario, inFlightBound, startClusterScenario, workQueueLeader } from '../support/cluster.js';
import { loadWithFault, record, SETTLE_DEADLINE_MS } from '../support/scenario.js';

const SCENARIO = '23. cluster: a node frozen 20 s';
const FROZEN_MS = 20_000;
// A handler consuming from the frozen node goes on sending what it held before the freeze (only
// its acks wait): sends in the first seconds say nothing of the clients on the live nodes. At 50
// checkouts/s a handler holds a few dozen messages, sent within a second or two.
const HELD_WORK_SETTLED_MS = 10_000;

// SIGSTOP of the Erlang process leading the work queue: its sockets stay open and nothing answers,
// as in a long GC pause or a stalled VM. Clients on it notice by heartbeat (5 s here), the other two
// nodes elect a new leader; SIGCONT after 20 s (short of the 60 s net_ticktime: no partition).
// While it is frozen, RabbitMQ 3.10's metadata store (Mnesia) still counts it as up and waits for
// it: a client that reconnects elsewhere waits in its setup (queue and binding declarations) until
// the node is back, and the messages its consumers held stay with them. Clients already on a live
// node go on: the test asks that emails were sent while the node was frozen. Each instance picks
// its first node at random, so in about one run in five both ticketing instances, or both handlers'
// consumers, sat on the leader and nothing could be sent: one of each is moved off it first.
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
    const moved = [
      ...(await oneOffTheNode(system.ticketings, frozen.port)),
      ...(await oneOffTheNode(system.handlers, frozen.port)),
    ];
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
    const sentWhileFrozen = await sentBetween(system, frozenAt + HELD_WORK_SETTLED_MS, faultEndedAt);
    const after = await workQueueLeader(cluster, system);
    const reconnected = reconnections(system) - reconnectsBefore;
    console.log(
      `[faults] ${SCENARIO}: ${before.leader} frozen ${FROZEN_MS} ms; ${sentWhileFrozen} email(s) sent in its last ${(FROZEN_MS - HELD_WORK_SETTLED_MS) / 1000} s; ` +
        `${reconnected} client reconnection(s); the work queue is now led by ${after.leader}` +
        (moved.length > 0 ? `; restarted first to leave the leader: ${moved.join(', ')}` : ''),
    );

    const bound = inFlightBound(system);
    const report = await verifySystem(system, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: bound,
      restarted: moved,
    });
    record(context, system, SCENARIO, report, load, bound);

    expect(report.problems).toEqual([]);
    expect(sentWhileFrozen).toBeGreaterThan(0);
  });
});

/**
 * Restarts the last of the instances until one of them is connected to a node other than the one
 * on `port` (its consuming connection, for a handler); returns the names restarted. A restart
 * lands elsewhere two times in three.
 */
async function oneOffTheNode(instances: ServiceProcess[], port: number): Promise<string[]> {
  const moving = instances.at(-1);
  if (!moving) throw new Error('no instance to move');
  const connected = (instance: ServiceProcess) =>
    waitFor(() => consumingNodePort(instance, instance.starts), {
      timeoutMs: 30_000,
      what: `${instance.name} connected`,
    });
  for (const instance of instances) await connected(instance);
  for (let attempt = 1; instances.every((instance) => consumingNodePort(instance) === port); attempt++) {
    if (attempt > 10) throw new Error(`${moving.name} connected to the node on port ${port} after 10 restarts`);
    await moving.stop();
    await moving.start();
    await connected(moving);
  }
  return moving.starts > 1 ? [moving.name] : [];
}

/**
 * The port of the node a process's consuming connection (a ticketing instance's only one) is on, from
 * its last "broker connected" line; the handler's publisher logs `connection: 'publisher'`.
 */
function consumingNodePort(process: ServiceProcess, run?: number): number | undefined {
  const broker = process
    .find('broker connected', run)
    .filter((line) => line.connection !== 'publisher')
    .at(-1)?.broker;
  return typeof broker === 'string' ? Number(new URL(broker).port) : undefined;
}

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
