/**
 * Which of the suite's scenario files a run left out: a run of one file (`vitest run ... 11-postgres`)
 * or with a name filter is a partial run, and its table must not stand as the suite's latest
 * results. `ran` lists the files the run took up, with the tests of each that it skipped.
 */
export function scenariosLeftOut(
  suiteFiles: readonly string[],
  ran: ReadonlyArray<{ file: string; skippedTests: number }>,
): string[] {
  const whole = new Set(ran.filter(({ skippedTests }) => skippedTests === 0).map(({ file }) => file));
  return suiteFiles.filter((file) => !whole.has(file));
}
