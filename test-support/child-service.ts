import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';

export type ChildService = {
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  lines: Array<Record<string, any>>;
  waitForLog: (msg: string, timeoutMs?: number) => Promise<Record<string, any>>;
  /** Resolves with the exit code (or the signal that ended it) once its output is read to the end. */
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
  // 'close', not 'exit': 'exit' can come while the last lines are still in the pipe, and a test
  // that reads `lines` once the process ended must see all of them. (The services start no
  // processes of their own that could hold the pipe open after they end.)
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? (signal as NodeJS.Signals)));
  });
  return {
    child,
    lines,
    exited,
    waitForLog: (msg, timeoutMs = 20_000) =>
      waitFor(() => lines.find((line) => line.msg === msg), { timeoutMs, what: `log line "${msg}"` }),
  };
}
