import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadResult, type LoadRun, loadProblems, startLoad } from '@notify/test-support/system/load-generator.js';
import { createRabbitNode, type RabbitNode } from '@notify/test-support/system/rabbitmq-node.js';
import { toResultRow } from '@notify/test-support/system/results-table.js';
import type { ServiceProcess } from '@notify/test-support/system/service-process.js';
import { type System, type SystemOptions, startSystem } from '@notify/test-support/system/system.js';
import type { VerifyReport } from '@notify/test-support/system/verifier.js';
import { afterAll, beforeAll, inject, type TestContext } from 'vitest';
import './context.js';

/**
 * The load every scenario runs: 25 checkouts/s (50 notifications/s) for 12 s, at most 300
 * checkouts, at most 60 in progress at once. The fault strikes once FAULT_AFTER_CHECKOUTS
 * checkouts completed (about 3 s in on an idle machine).
 */
export const LOAD = { ratePerSecond: 25, durationMs: 12_000, maxCheckouts: 300, maxConcurrent: 60 };
export const FAULT_AFTER_CHECKOUTS = 60;
/** Bound on waiting for every accepted notification to be final, counted from the end of the load. */
export const SETTLE_DEADLINE_MS = 120_000;

/** The system of one scenario, on the run's broker (unless given another) with a database of its own. */
export function startScenarioSystem(label: string, options: Partial<SystemOptions> = {}): Promise<System> {
  return startSystem({
    label,
    amqpUrl: inject('amqpUrl'),
    adminDatabaseUrl: inject('adminDatabaseUrl'),
    ...options,
  });
}

/**
 * For a scenario whose fault strikes the broker itself: a RabbitMQ node of its own (own name, ports
 * and data folder; the machine's broker on 5672 is never stopped or alarmed) and the system on it,
 * both started before the describe's tests and stopped after them. Call it in the describe's body;
 * the getters hold inside its tests.
 */
export function scenarioOnOwnRabbitNode(label: string): { node: () => RabbitNode; system: () => System } {
  let node: RabbitNode | undefined;
  let system: System | undefined;
  beforeAll(async () => {
    node = await createRabbitNode({
      nodeName: `${inject('runId')}-${label}@localhost`,
      markerDir: inject('rabbitMarkerDir'),
    });
    await node.start();
    system = await startScenarioSystem(label, { amqpUrl: node.amqpUrl });
  });
  afterAll(async () => {
    try {
      await system?.stop();
    } finally {
      await node?.destroy();
    }
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`scenario ${label}: its node and system are not started`);
    return value;
  };
  return { node: () => started(node), system: () => started(system) };
}

/**
 * Runs the load and, once FAULT_AFTER_CHECKOUTS checkouts completed, the fault; resolves with the
 * load's result and the moment the fault ended (what `fault` returns, or when it resolved).
 */
export async function loadWithFault(
  system: System,
  fault: (load: LoadRun) => Promise<number | undefined>,
  options: Partial<typeof LOAD> = {},
): Promise<{ load: LoadResult; faultEndedAt: number }> {
  const load = startLoad({
    baseUrl: system.ticketingUrl,
    baseUrls: system.ticketingUrls,
    emailPrefix: `faults-${system.id}`,
    ...LOAD,
    ...options,
  });
  try {
    await load.untilCompleted(FAULT_AFTER_CHECKOUTS).catch((error: Error) => {
      // The load failing before the fault is the system's fault, not the scenario's: say what the API logged.
      const logs = system.ticketings.map((ticketing) => `${ticketing.name}'s last lines:\n${ticketing.tail(20)}`);
      throw new Error(`${error.message}\n${logs.join('\n')}`, { cause: error });
    });
    // On a slow host the load can start its last checkout before FAULT_AFTER_CHECKOUTS completed:
    // a fault struck then meets no load, and the scenario would pass without testing what it names.
    if (!load.running) {
      const { started, completed } = load.stats;
      throw new Error(
        `the load had started its last checkout (${started} started, ${completed} completed) before the fault: ` +
          'it would strike without load',
      );
    }
    const faultEndedAt = (await fault(load)) ?? Date.now();
    return { load: await load.done, faultEndedAt };
  } finally {
    await load.stop();
  }
}

/**
 * One problem per service that never logged `msg` (a line each service writes when the fault
 * reaches it): a fault aimed at the wrong process, port or proxy would otherwise leave a scenario
 * green without having tested anything.
 */
export function notReachedBy(services: ServiceProcess[], msg: string, fault: string): string[] {
  return services
    .filter((service) => service.find(msg).length === 0)
    .map((service) => `${service.name} never logged "${msg}": the ${fault} did not reach it`);
}

/**
 * Polls each ticketing and handler instance's /readyz until every one of them has answered
 * `database: 'down'` at least once, or `timeoutMs` passed; resolves with the names that never did.
 */
export async function databaseDownNotSeenBy(system: System, timeoutMs: number): Promise<string[]> {
  const instances = [...system.ticketings, ...system.handlers].map((service) => service.name);
  const pending = new Set(instances);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    await Promise.all(
      [...pending].map(async (name) => {
        if ((await databaseState(system.urls[name] as string)) === 'down') pending.delete(name);
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return [...pending];
}

async function databaseState(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return ((await response.json()) as { database?: string }).database;
  } catch {
    return undefined;
  }
}

/**
 * Adds what the load itself saw to the report's problems (`loadProblems`: 201 answers whose
 * notification cannot be followed, which no check on the system can see), then hands the
 * scenario's row to the summary reporter (before any assertion, so that a failing scenario is
 * still in the table), prints the report and keeps it next to the processes' logs.
 */
export function record(
  context: TestContext,
  system: System,
  scenario: string,
  report: VerifyReport,
  load: LoadResult,
  duplicateBound = 0,
): void {
  report.problems.push(...loadProblems(load.stats));
  context.task.meta.faultRow = toResultRow(scenario, report, duplicateBound);
  const { deadLetters, ...rest } = report;
  const summary = {
    scenario,
    ...rest,
    deadLetters: deadLetters.map(({ reason, headers, bytes }) => ({ reason, poison: headers['x-poison'], bytes })),
    load: { ...load.stats, durationMs: load.endedAt - load.startedAt },
  };
  const json = JSON.stringify(summary, null, 2);
  console.log(`[faults] ${scenario}: ${json}`);
  writeFileSync(join(system.logDir, 'report.json'), json);
}
