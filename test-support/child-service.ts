import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';

export type ChildService = {
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  lines: Array<Record<string, any>>;
  waitForLog: (msg: string, timeoutMs?: number) => Promise<Record<string, any>>;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<number | NodeJS.Signals>;
};

/**
 * Runs a service's entry point as a real process (TypeScript through tsx, sources via the
 * 'source' export condition), so that signals and exit codes are the real ones.
 */
export function spawnService(entry: string, env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', entry], {
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, any>> = [];
  const collect = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (text) => {
      try {
        lines.push(JSON.parse(text));
      } catch {
        lines.push({ msg: text });
      }
    });
  if (child.stdout) collect(child.stdout);
  if (child.stderr) collect(child.stderr);
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal as NodeJS.Signals)));
  });
  return {
    child,
    lines,
    exited,
    waitForLog: (msg, timeoutMs = 20_000) =>
      waitFor(() => lines.find((line) => line.msg === msg), { timeoutMs, what: `log line "${msg}"` }),
  };
}
