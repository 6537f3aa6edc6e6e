import { Writable } from 'node:stream';
import { createLoggerTo } from '@notify/shared/platform';
import { type Logger, pino } from 'pino';
import { waitFor } from './wait.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };
export type CapturedLogger = {
  log: Logger;
  lines: LogLine[];
  find: (msg: string) => LogLine[];
  /** Resolves with the first line whose message is `msg`, once it is logged. */
  waitFor: (msg: string, timeoutMs?: number) => Promise<LogLine>;
};

/** A real pino logger, configured like production, writing into an array that tests can read. */
export function captureLogs(level = 'debug'): CapturedLogger {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const log = createLoggerTo(sink, level);
  const find = (msg: string) => lines.filter((line) => line.msg === msg);
  return {
    log,
    lines,
    find,
    waitFor: (msg, timeoutMs = 10_000) => waitFor(() => find(msg)[0], { timeoutMs, what: `log line "${msg}"` }),
  };
}

export const silentLogger: Logger = pino({ level: 'silent' });
