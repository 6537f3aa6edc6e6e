import { setTimeout as sleep } from 'node:timers/promises';
import type { System } from '@notify/test-support/system/system.js';
import { verifySystem } from '@notify/test-support/system/verifier.js';
import { waitFor } from '@notify/test-support/wait.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadWithFault, record, SETTLE_DEADLINE_MS, startScenarioSystem } from '../support/scenario.js';

/** How long the server stays down; FAULTS_PG_OUTAGE_MS shortens it to try the scenario. */
const PG_OUTAGE_MS = outageFromEnv(process.env.FAULTS_PG_OUTAGE_MS, 180_000);
/** Every notification accepted before the outage is sent within this long of the server's return. */
const RECOVERED_WITHIN_MS = 60_000;
const SCENARIO = `11. PostgreSQL stopped ${PG_OUTAGE_MS / 1000} s`;

// The system runs on a PostgreSQL server of its own (postgres-node.ts: free port, temp folder):
// this scenario stops the server itself, not a connection to it, and the machine's server on 5432
// is never touched. Its data folder is kept between stop and start, as in production.
describe(SCENARIO, () => {
  let system: System | undefined;
  beforeAll(async () => {
    system = await startScenarioSystem('postgres-stopped', { privatePostgres: true });
  });
  afterAll(async () => {
    await system?.stop();
  });

  test(
    'When PostgreSQL stops under load and starts again minutes later, then the API refuses meanwhile and every notification it accepted is sent once, within a minute of the restart',
    async (context) => {
      const sut = system!;
      const server = sut.postgres!;
      let sawOutageAfterMs: number | null = null;
      // The load (12 s) ends during the outage: the fault outlasts it, and settling starts after the restart.
      const { load, faultEndedAt } = await loadWithFault(sut, async () => {
        await server.stop();
        const stoppedAt = Date.now();
        const seen = untilBothReportDatabaseDown(sut, Math.min(30_000, PG_OUTAGE_MS - 1_000)).then(
          () => Date.now() - stoppedAt,
          () => null,
        );
        await sleep(Math.max(0, PG_OUTAGE_MS - (Date.now() - stoppedAt)));
        sawOutageAfterMs = await seen;
        await server.start();
        return Date.now();
      });

      // The deadline counts from here, after the restart: it bounds the recovery, not the outage.
      const report = await verifySystem(sut, { accepted: load.accepted, faultEndedAt, deadlineMs: SETTLE_DEADLINE_MS });
      if (sawOutageAfterMs === null) report.problems.push('the services never reported the database down');
      else console.log(`[faults] ${SCENARIO}: both services reported the database down ${sawOutageAfterMs} ms in`);
      if (report.timeToRecoverMs === null || report.timeToRecoverMs > RECOVERED_WITHIN_MS) {
        report.problems.push(
          `not every notification was final within ${RECOVERED_WITHIN_MS / 1000} s of the restart (time to recover: ${report.timeToRecoverMs ?? 'never'} ms)`,
        );
      } else {
        console.log(`[faults] ${SCENARIO}: every notification final ${report.timeToRecoverMs} ms after the restart`);
      }
      record(context, sut, SCENARIO, report, load);

      expect(report.problems).toEqual([]);
    },
    // The outage, then the settle deadline, then the final stops and counts.
    PG_OUTAGE_MS + SETTLE_DEADLINE_MS + 120_000,
  );
});

/** Both services' /readyz say `database: 'down'` (each has that field, whatever else it reports). */
async function untilBothReportDatabaseDown(system: System, timeoutMs: number): Promise<void> {
  const databaseState = async (url: string) => {
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return ((await response.json()) as { database?: string }).database;
    } catch {
      return undefined;
    }
  };
  await waitFor(
    async () => {
      const states = await Promise.all([system.ticketingUrl, system.handlerUrl].map(databaseState));
      return states.every((seen) => seen === 'down') ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, what: 'both services to report the database down' },
  );
}

function outageFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 2_000) {
    throw new Error(`FAULTS_PG_OUTAGE_MS must be a whole number of milliseconds, at least 2000 (got ${value})`);
  }
  return ms;
}
