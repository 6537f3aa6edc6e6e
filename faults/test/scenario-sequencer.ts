import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The scenarios that hold an outage of minutes (Mailjet down 3 min, PostgreSQL stopped 3 min, the
 * failover's 2 min). They spend it waiting, at a load the machine barely notices, so they start
 * first, each on a worker of its own, and the short scenarios run beside them instead of after.
 */
const OUTAGES_OF_MINUTES = ['10-mailjet-outage', '11-postgres-stopped', '15-failover'];

/** The scenarios of minutes first, then the rest in the order of their names (01-..., 02-...). */
export class ScenarioSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) =>
      OUTAGES_OF_MINUTES.some((name) => file.moduleId.endsWith(`/${name}.test.ts`)) ? 0 : 1;
    return [...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId));
  }
}
