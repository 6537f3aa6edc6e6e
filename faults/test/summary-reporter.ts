import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { formatTable, type ResultRow } from '@notify/test-support/system/results-table.js';
import { REPO_ROOT } from '@notify/test-support/system/system.js';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import './support/context.js';
import { scenariosLeftOut } from './support/suite-coverage.js';

/**
 * Prints the table (scenario | accepted | sent | failed | lost | duplicates | time to recover ...)
 * after the run, from the row each scenario put in its task meta, and writes it to
 * faults/results/latest.md when the run took up the whole suite: the results of one scenario tried
 * again must not replace the suite's. A scenario that failed before measuring shows as a row of its own.
 */
export default class SummaryReporter implements Reporter {
  private startedAt = Date.now();
  /** Scenarios run side by side: the time of the run depends on how many at once. */
  private scenariosAtOnce = 1;
  /** Every scenario file of the suite, whatever the command line asked for. */
  private suiteFiles: Promise<string[]> = Promise.resolve([]);

  onInit(vitest: Vitest): void {
    this.scenariosAtOnce = vitest.config.maxWorkers;
    // Not knowing the suite's files, the run is taken as whole, as before this check.
    this.suiteFiles = vitest
      .globTestSpecifications()
      .then((specs) => specs.map((spec) => spec.moduleId))
      .catch(() => []);
  }

  onTestRunStart(): void {
    this.startedAt = Date.now();
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    const rows: ResultRow[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        const outcome = state === 'passed' ? 'passed' : state === 'failed' ? 'failed' : undefined;
        const measured = test.meta().faultRow;
        if (measured) rows.push({ ...measured, outcome: outcome ?? measured.outcome });
        // The describe block is named after the scenario.
        else if (state !== 'skipped')
          rows.push(unmeasured(test.parent.type === 'suite' ? test.parent.name : test.name, outcome));
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) {
        rows.push(unmeasured(module.moduleId.split('/').pop() ?? module.moduleId, 'failed'));
      }
    }
    if (rows.length === 0) return;
    rows.sort((a, b) => a.scenario.localeCompare(b.scenario, undefined, { numeric: true }));
    const minutes = ((Date.now() - this.startedAt) / 60_000).toFixed(1);
    const atOnce =
      this.scenariosAtOnce === 1 ? 'one scenario at a time' : `at most ${this.scenariosAtOnce} scenarios at a time`;
    const table = formatTable(rows);
    const problems = rows.flatMap((row) => row.problems.map((problem) => `- ${row.scenario}: ${problem}`));
    console.log(
      `\nFault suite (${minutes} min, ${atOnce}):\n${table}\n${problems.length > 0 ? `\n${problems.join('\n')}\n` : ''}`,
    );
    const cluster = process.env.FAULTS_SUITE === 'cluster';
    const markdown = [
      cluster ? '# Fault suite on a RabbitMQ cluster: latest results' : '# Fault suite: latest results',
      '',
      `Run ${new Date().toISOString()} in ${minutes} min on ${cpus().length} cores, ${atOnce}, by \`npm run test:faults${cluster ? ':cluster' : ''}\`.`,
      'Accepted counts notifications the API answered 201 for (two per completed checkout).',
      'Time to recover: from the end of the fault until every notification accepted before that was final.',
      '',
      table,
      '',
      ...(problems.length > 0 ? ['Problems:', '', ...problems, ''] : []),
    ].join('\n');
    const file = join(REPO_ROOT, 'faults', 'results', cluster ? 'cluster-latest.md' : 'latest.md');
    const ran = testModules.map((module) => ({
      file: module.moduleId,
      skippedTests: [...module.children.allTests()].filter((test) => test.result().state === 'skipped').length,
    }));
    const leftOut = scenariosLeftOut(await this.suiteFiles, ran);
    if (leftOut.length > 0) {
      console.log(`A part of the suite (${leftOut.length} scenario files left out): ${file} keeps the last whole run.`);
      return;
    }
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, markdown);
  }
}

function unmeasured(scenario: string, outcome: ResultRow['outcome']): ResultRow {
  return {
    scenario,
    accepted: 0,
    sent: 0,
    failed: 0,
    lost: 0,
    duplicates: 0,
    duplicateBound: 0,
    deadLetters: 0,
    timeToRecoverMs: null,
    maxLatencyMs: null,
    outcome,
    problems: ['no measurement: the scenario failed before its checks (see the test output)'],
  };
}
