import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnService } from '@notify/test-support/child-service.js';
import { captureLogs } from '@notify/test-support/logger.js';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/log-then-crash.ts', import.meta.url));
const failingStdoutFixture = fileURLToPath(new URL('./fixtures/log-to-failing-stdout.ts', import.meta.url));

/** Runs the fixture to its kill -9 and returns the JSON lines it left on stdout. */
async function runUntilKilled(lines: number): Promise<Array<Record<string, unknown>>> {
  const crash = spawnService(fixture, { LINES_BEFORE_CRASH: String(lines) });
  const ending = await crash.exited;
  if (ending !== 'SIGKILL') throw new Error(`the fixture ended with ${ending}: ${JSON.stringify(crash.lines)}`);
  return crash.lines;
}

describe('createLogger (json)', () => {
  it('When the process is killed -9 right after logging, then every line is already on stdout', async () => {
    const output = await runUntilKilled(500);
    const sent = output.filter((line) => line.msg === 'email sent').map((line) => line.line);
    expect(sent).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  }, 20_000);

  it('When a line or a binding holds a secret, then it is written as [redacted], and a password in a URL as ***', async () => {
    const output = await runUntilKilled(1);
    const byMessage = (msg: string) => output.find((line) => line.msg === msg);
    expect(byMessage('settings')?.config).toEqual({ password: '[redacted]', DATABASE_URL: '[redacted]' });
    expect(byMessage('top-level secrets')).toMatchObject({
      password: '[redacted]',
      target: 'amqp://guest:***@broker:5672',
    });
    expect(byMessage('child with a secret binding')).toMatchObject({ operatorToken: '[redacted]' });
    expect(JSON.stringify(output)).not.toContain('hunter2');
  }, 20_000);
});

/** Runs the fixture with stdout on /dev/full, where every write fails with ENOSPC. */
async function runOnFullDisk(lines: number): Promise<{ code: number | null; stderr: string }> {
  const stdout = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', failingStdoutFixture], {
    env: { ...process.env, LINES: String(lines) },
    stdio: ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stderr };
}

describe('createLogger (json) on a stdout that refuses writes', () => {
  it('When every write to stdout fails (a full disk), then logging neither throws nor crashes the process, says so once on stderr, and holds a bounded backlog', async () => {
    const { code, stderr } = await runOnFullDisk(20_000);

    expect(stderr).toContain('"msg":"still running"');
    expect(code).toBe(0);
    expect(stderr.match(/log lines cannot be written to stdout/g)).toHaveLength(1);
    const report = JSON.parse(stderr.split('\n').find((line) => line.includes('still running')) ?? '{}');
    // 20,000 lines of 1 kB each were logged: what waits for the disk is capped, not all of them.
    expect(report.heldBytes).toBeLessThanOrEqual(17 * 1024 * 1024);
  }, 20_000);
});

describe('the loggers’ messages', () => {
  it('When an error is logged without a message, or a message holds a URL with a password, then the password is *** there too', () => {
    const logs = captureLogs();
    const failure = new Error('connect failed to amqp://svc:hunter2@rabbit:5672/');

    logs.log.warn({ err: failure });
    logs.log.error(failure);
    logs.log.info({ attempt: 2 }, 'connecting to postgres://app:hunter2@db:5432/app');

    expect(logs.lines.map((line) => line.msg)).toEqual([
      'connect failed to amqp://svc:***@rabbit:5672/',
      'connect failed to amqp://svc:***@rabbit:5672/',
      'connecting to postgres://app:***@db:5432/app',
    ]);
    expect(JSON.stringify(logs.lines)).not.toContain('hunter2');
  });

  it('When an error quoting an address is logged without a message, then the line’s msg has the address masked', () => {
    const logs = captureLogs();

    logs.log.error({ err: new Error('mailbox of ada@example.com is full') });

    expect(logs.lines.map((line) => line.msg)).toEqual(['mailbox of a***@e***.com is full']);
    expect(JSON.stringify(logs.lines)).not.toContain('ada@example.com');
  });
});
