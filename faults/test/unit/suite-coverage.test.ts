import { describe, expect, it } from 'vitest';
import { scenariosLeftOut } from '../support/suite-coverage.js';

const SUITE = ['faults/01-kill.test.ts', 'faults/11-postgres.test.ts', 'faults/17-table.test.ts'];

describe('what a fault suite run left out', () => {
  it('When every scenario file ran whole, then nothing is left out', () => {
    const ran = SUITE.map((file) => ({ file, skippedTests: 0 }));
    expect(scenariosLeftOut(SUITE, ran)).toEqual([]);
  });

  it('When one file was asked for, then the others are left out', () => {
    expect(scenariosLeftOut(SUITE, [{ file: 'faults/11-postgres.test.ts', skippedTests: 0 }])).toEqual([
      'faults/01-kill.test.ts',
      'faults/17-table.test.ts',
    ]);
  });

  it('When a name filter skipped a scenario inside a file that ran, then that file counts as left out', () => {
    const ran = SUITE.map((file) => ({ file, skippedTests: file.includes('17') ? 1 : 0 }));
    expect(scenariosLeftOut(SUITE, ran)).toEqual(['faults/17-table.test.ts']);
  });
});
