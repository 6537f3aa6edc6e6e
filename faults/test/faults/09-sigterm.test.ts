import type { ProcessExit } from '@notify/test-support/system/service-process.js';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FAULT_AFTER_CHECKOUTS,
  loadWithFault,
  record,
  SETTLE_DEADLINE_MS,
  startScenarioSystem,
} from '../support/scenario.js';

const SCENARIO = '9. SIGTERM each service';

describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('sigterm');
  });
  afterAll(async () => {
    await system?.stop();
  });

  test('When each service gets SIGTERM under load and is started again, then each exits 0 and every accepted notification is sent once', async (context) => {
    const sut = system!;
    const exits: Array<{ name: string; exit: ProcessExit; completedLog: boolean }> = [];
    // Two stops and starts take a while: the load goes on long enough to run past both.
    const { load, faultEndedAt } = await loadWithFault(
      sut,
      async (running) => {
        // The handler first, then the ticketing service once 10 more checkouts went through.
        for (const service of [sut.handler, sut.ticketing]) {
          await running.untilCompleted(service === sut.handler ? FAULT_AFTER_CHECKOUTS : running.stats.completed + 10);
          const run = service.starts;
          const exit = await service.kill('SIGTERM');
          // The last line may still be in the pipe when the exit is reported.
          const completedLog = await service.waitForLog('shutdown complete', { run, timeoutMs: 5_000 }).then(
            () => true,
            () => false,
          );
          exits.push({ name: service.name, exit, completedLog });
          await service.start();
        }
        return Date.now();
      },
      { durationMs: 25_000, maxCheckouts: 625 },
    );

    const report = await verifySystem(sut, {
      accepted: load.accepted,
      faultEndedAt,
      deadlineMs: SETTLE_DEADLINE_MS,
      restarted: ['handler', 'ticketing'],
    });
    for (const { name, exit, completedLog } of exits) {
      if (exit.code !== 0)
        report.problems.push(`${name} exited with ${exit.code ?? exit.signal} on SIGTERM under load`);
      if (!completedLog) report.problems.push(`${name} did not log "shutdown complete"`);
    }
    record(context, sut, SCENARIO, report, load);

    expect(report.problems).toEqual([]);
  });
});
