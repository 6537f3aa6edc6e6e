import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceProcess } from '../../system/service-process.js';

/** A stand-in service: logs the Node flags it was started with, then waits to be stopped. */
function flagReportingEntry(): string {
  const entry = join(mkdtempSync(join(tmpdir(), 'service-process-')), 'main.mjs');
  writeFileSync(
    entry,
    `console.log(JSON.stringify({ level: 30, msg: 'started', execArgv: process.execArgv }));
     setInterval(() => undefined, 1000);
     process.once('SIGTERM', () => process.exit(0));`,
  );
  return entry;
}

describe('ServiceProcess', () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.dispose();
    service = undefined;
  });

  it('When started with Node flags, then the process runs with them, before its entry', async () => {
    const running: ServiceProcess = new ServiceProcess({
      name: 'flags',
      entry: flagReportingEntry(),
      nodeFlags: ['--max-semi-space-size=32'],
      env: {},
      isReady: async () => running.find('started').length > 0,
      readyTimeoutMs: 10_000,
    });
    service = running;

    await running.start();

    expect(running.find('started')[0]?.execArgv).toEqual(['--max-semi-space-size=32']);
  });

  it('When its lines are not read, then the process writes them straight into its log file, and tail reads them there', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'service-process-')), 'flags.log');
    const running: ServiceProcess = new ServiceProcess({
      name: 'unread',
      entry: flagReportingEntry(),
      env: {},
      logFile,
      readLines: false,
      isReady: async () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"started"'),
      readyTimeoutMs: 10_000,
    });
    service = running;

    await running.start();

    expect(running.lines).toEqual([]);
    expect(running.tail(1)).toContain('"msg":"started"');
    expect(() => running.find('started')).toThrow(/lines are not read/);
    await expect(running.waitForLog('started', { timeoutMs: 5_000 })).rejects.toThrow(/lines are not read/);
  });
});
