import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

const SCENARIO = '14. kill -9 the handler during a bulk replay';
/** Mailjet refuses the load's recipients (a permanent 400) while the load runs: every notification fails. */
const REFUSED_DOMAIN = 'example.com';
const REPLAY_LIMIT = 100;

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    // Each send takes 200 ms at the provider, so that the kill catches replayed sends in flight.
    system = await startScenarioSystem('replay-kill', { sandboxEnv: { SANDBOX_LATENCY_MS: '200' } });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When the handler is killed while a bulk replay is under way, then each notification is sent once or is still replayable, and replaying again sends the rest', async (context) => {
    const sut = system!;
    const prefetch = Number(sut.env.handler.PREFETCH);
    const from = new Date(Date.now() - 60_000).toISOString();
    const replay = async () => {
      const response = await fetch(`${sut.handlerUrl}/notifications/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'failed', from, limit: REPLAY_LIMIT }),
        signal: AbortSignal.timeout(30_000),
      });
      if (response.status !== 202) throw new Error(`bulk replay answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { queued: number; more: boolean };
    };

    await sut.mailjet.setFaults({ failRecipients: REFUSED_DOMAIN });
    const { load } = await loadWithFault(sut, async () => undefined);
    const failedCount = await waitFor(
      async () => {
        const { rows } = await sut.db.query(
          `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*)::int AS total
           FROM notifications.notifications`,
        );
        return rows[0].total === load.accepted.size && rows[0].failed === rows[0].total ? rows[0].failed : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200, what: 'every notification to fail' },
    );
    await sut.mailjet.clearFaults();

    const firstCall = await replay();
    await waitFor(
      async () => {
        const { rows } = await sut.db.query(
          `SELECT count(*)::int AS n FROM notifications.notifications WHERE status = 'sent'`,
        );
        return rows[0].n >= 5 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 5, what: 'replayed sends under way' },
    );
    // The second call is under way (publishing, marking) when the handler dies.
    const interrupted = replay().catch((error: unknown) => error);
    await sleep(5);
    await sut.handler.kill('SIGKILL');
    await interrupted;
    await sut.handler.start();
    const faultEndedAt = Date.now();
    let calls = 1;
    for (let more = true; more && calls < 100; calls++) more = (await replay()).more;

    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      maxDuplicates: prefetch,
      // The first, failed, delivery of each notification is still there: replay copies the row's request.
      expectedDeadLetters: failedCount,
      restarted: ['handler'],
    });
    console.log(
      `[faults] ${SCENARIO}: ${failedCount} failed, the first call queued ${firstCall.queued}, ${calls} bulk calls in all`,
    );
    record(context, sut, SCENARIO, report, load, prefetch);

    expect(report.problems).toEqual([]);
  });
});
