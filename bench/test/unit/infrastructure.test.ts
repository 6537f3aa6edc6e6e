import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const INFRASTRUCTURE = fileURLToPath(new URL('../../lib/infrastructure.ts', import.meta.url));

/**
 * A bench whose run outlives its bound: the abort runs the cleanups, which take the run's services
 * away, so its main then fails, as a scenario does when its processes are stopped under it.
 */
function runBoundedBench(): { status: number | null; output: string } {
  const script = join(mkdtempSync(join(tmpdir(), 'bench-abort-')), 'bench.ts');
  writeFileSync(
    script,
    `import { abortOnSignalsOrAfter, cleanupOnAbort, runBenchMain } from ${JSON.stringify(INFRASTRUCTURE)};
     let servicesUp = true;
     runBenchMain(async () => {
       cleanupOnAbort(async () => { servicesUp = false; console.log('cleanup'); });
       abortOnSignalsOrAfter(100, (reason) => console.log('abort: ' + reason), async () => {
         await new Promise((resolve) => setTimeout(resolve, 100));
         console.log('partial results written');
       });
       while (servicesUp) await new Promise((resolve) => setTimeout(resolve, 10));
       throw new Error('services went away');
     });`,
  );
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('a standalone bench cut short', () => {
  it('When its bound passes and its main then fails, then the abort finishes: cleanups, partial results, exit 2', () => {
    const { status, output } = runBoundedBench();

    expect(output).toContain('abort: global timeout of 0 s');
    expect(output).toContain('cleanup');
    expect(output).toContain('partial results written');
    expect(output).not.toContain('services went away');
    expect(status).toBe(2);
  });
});
