import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Runs scenario files in the order of their names (01-..., 02-...), so the table reads in order. */
export class FileOrderSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}
