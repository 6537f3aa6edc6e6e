import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ClusterScenario, startClusterScenario } from '../support/cluster.js';
import { loadWithFault, record, SETTLE_DEADLINE_MS } from '../support/scenario.js';

const SCENARIO = '24. cluster: a third handler joins, one is killed';

// The handlers compete on one queue: a third one started mid-load takes its share at once, and
// one killed mid-send leaves its claimed rows to the others once their leases run out.
describe(SCENARIO, () => {
  let scenario: ClusterScenario | undefined;
  beforeAll(async () => {
    // Each send takes 300 ms at the provider, so that the kill catches sends in flight (as scenario 1).
    scenario = await startClusterScenario('cluster-handler-scale', { sandboxEnv: { SANDBOX_LATENCY_MS: '300' } });
  });
  afterAll(async () => {
    await scenario?.stop();
  });

  test("When a third handler starts and the first is killed mid-load, then every accepted notification is sent once (duplicates within the killed one's PREFETCH)", async (context) => {
    const { system } = scenario!;
    const [victim] = system.handlers;
    const prefetch = Number(system.env.handler.PREFETCH);
    let joinedShare = 0;
    const { load, faultEndedAt } = await loadWithFault(
      system,
      async () => {
        const third = await system.addHandler();
        // The newcomer consumes: it logs each email it sends.
        await waitFor(() => (third.find('email sent').length > 0 ? true : undefined), {
          timeoutMs: 30_000,
          what: `${third.name} to send its first email`,
        });
        await waitFor(
          async () => {
            const { rows } = await system.db.query(
              `SELECT count(*)::int AS n FROM notifications.notifications WHERE status = 'in_progress'`,
            );
            return rows[0].n >= 3 ? true : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 5, what: 'sends in flight' },
        );
        await victim!.kill('SIGKILL');
        joinedShare = third.find('email sent').length;
        return Date.now();
      },
      { durationMs: 30_000, maxCheckouts: 750 },
    );
    const sentBy = Object.fromEntries(
      system.handlers.map((handler) => [handler.name, handler.find('email sent').length]),
    );
    console.log(
      `[faults] ${SCENARIO}: emails sent by each handler ${JSON.stringify(sentBy)} (the third had sent ${joinedShare} when the first was killed)`,
    );

    const report = await verifySystem(system, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: prefetch,
      retired: [victim!.name],
    });
    record(context, system, SCENARIO, report, load, prefetch);

    expect(report.problems).toEqual([]);
    expect(system.handlers).toHaveLength(3);
  });
});
