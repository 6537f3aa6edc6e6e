import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '1. kill -9 the handler';

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    // Each send takes 300 ms at the provider, so that the kill catches sends in flight.
    system = await startScenarioSystem('handler-kill', { sandboxEnv: { SANDBOX_LATENCY_MS: '300' } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When the handler is killed mid-load and started again, then every accepted notification is sent once (duplicates within PREFETCH)', async (context) => {
    const sut = system!;
    const prefetch = Number(sut.env.handler.PREFETCH);
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      // Killed while it holds rows in progress: claimed, their emails on the way or sent.
      await waitFor(
        async () => {
          const { rows } = await sut.db.query(
            `SELECT count(*)::int AS n FROM notifications.notifications WHERE status = 'in_progress'`,
          );
          return rows[0].n >= 3 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 5, what: 'sends in flight' },
      );
      await sut.handler.kill('SIGKILL');
      await sut.handler.start();
      return Date.now();
    });

    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: prefetch,
      restarted: ['handler'],
    });
    record(context, sut, SCENARIO, report, load, prefetch);

    expect(report.problems).toEqual([]);
  });
});
