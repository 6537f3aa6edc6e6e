import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs `body` in a Node process of its own, with exitOnSignal set up and a closer that takes 300 ms. */
function runProcess(body: string): Promise<{ code: number | null; stdout: string }> {
  const script = `
    import { Closers, createLoggerTo, exitOnSignal } from '@notify/shared/platform';
    const log = createLoggerTo(process.stdout, 'info');
    const closers = new Closers(log);
    closers.add('slow resource', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      console.log('slow resource closed');
    });
    exitOnSignal(closers, log, 5000);
    setInterval(() => undefined, 1000);
    ${body}
  `;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: REPO_ROOT, timeout: 20_000 },
      (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout }),
    );
  });
}

describe('exitOnSignal', () => {
  it('When a second unexpected error comes while closing, then it is logged and every closer still runs before the exit', async () => {
    const { code, stdout } = await runProcess(`
      setTimeout(() => { throw new Error('first bug'); }, 10);
      setTimeout(() => { throw new Error('second bug'); }, 100);
    `);

    expect(stdout).toContain('unexpected error; shutting down');
    expect(stdout).toContain('another unexpected error while shutting down');
    expect(stdout).toContain('slow resource closed');
    expect(code).toBe(1);
  });

  it('When SIGTERM comes, then every closer runs and the process exits 0', async () => {
    const { code, stdout } = await runProcess(`setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10);`);

    expect(stdout).toContain('slow resource closed');
    expect(stdout).toContain('shutdown complete');
    expect(code).toBe(0);
  });

  it('When a closer fails on SIGTERM, then the others still run and the process exits 1 naming it', async () => {
    const { code, stdout } = await runProcess(`
      closers.add('broken resource', () => { throw new Error('cannot close'); });
      setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10);
    `);

    expect(stdout).toContain('slow resource closed');
    expect(stdout).toContain('shutdown complete, but some resources failed to close');
    expect(stdout).toContain('broken resource');
    expect(code).toBe(1);
  });
});
