import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = "17. the handler's table gone 20 s (a restore)";
const GONE_MS = 20_000;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('table-restored');
  });
  afterAll(async () => {
    await system?.db
      .query('ALTER TABLE IF EXISTS notifications.notifications_restoring RENAME TO notifications')
      .catch(() => undefined);
    await system?.stop();
  });

  test("When the handler's table is missing for 20 s under load, then it pauses instead of dead-lettering, and every accepted notification is sent once", async (context) => {
    const sut = system!;
    let pausedForDatabase = false;
    const { load, faultEndedAt } = await loadWithFault(sut, async () => {
      // As a restore looks to the handler: PostgreSQL answers, the table it writes is not there.
      await sut.db.query('ALTER TABLE notifications.notifications RENAME TO notifications_restoring');
      const goneAt = Date.now();
      pausedForDatabase = await waitFor(
        async () => ((await pausedBy(sut.handlerUrl)).includes('database') ? true : undefined),
        { timeoutMs: GONE_MS - 2_000, intervalMs: 250, what: 'the handler to pause for its database' },
      ).catch(() => false);
      await sleep(Math.max(0, GONE_MS - (Date.now() - goneAt)));
      await sut.db.query('ALTER TABLE notifications.notifications_restoring RENAME TO notifications');
      return Date.now();
    });

    // No dead letter expected: a missing table is the database's state, not a fault of any message.
    const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
    if (!pausedForDatabase) report.problems.push('the handler never paused for its database while its table was gone');
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});

async function pausedBy(handlerUrl: string): Promise<string[]> {
  try {
    const response = await fetch(`${handlerUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return ((await response.json()) as { pausedBy?: string[] }).pausedBy ?? [];
  } catch {
    return [];
  }
}
