import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/log-then-crash.ts', import.meta.url));

/** Runs the fixture to its kill -9 and returns the JSON lines it left on stdout. */
function runUntilKilled(lines: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, String(lines)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the fixture ended with ${signal ?? 'an exit'}: ${stdout}`));
      resolve(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((text) => JSON.parse(text)),
      );
    });
  });
}

describe('createLogger (json)', () => {
  it('has every line on stdout before the call returns, so that a kill -9 loses none', async () => {
    const output = await runUntilKilled(500);
    const sent = output.filter((line) => line.msg === 'email sent').map((line) => line.line);
    expect(sent).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  }, 20_000);

  it('writes passwords and connection settings nested in a logged object as [redacted]', async () => {
    const output = await runUntilKilled(1);
    const settings = output.find((line) => line.msg === 'settings');
    expect(settings?.config).toEqual({ password: '[redacted]', DATABASE_URL: '[redacted]' });
    expect(JSON.stringify(output)).not.toContain('hunter2');
  }, 20_000);
});
