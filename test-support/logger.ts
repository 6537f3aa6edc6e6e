import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { REDACTED_PATHS, serializeError } from '../shared/src/platform/logger.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };
export type CapturedLogger = { log: Logger; lines: LogLine[]; find: (msg: string) => LogLine[] };

/** A real pino logger, configured like production, writing into an array that tests can read. */
export function captureLogs(level = 'debug'): CapturedLogger {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const log = pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers: { err: serializeError } },
    sink,
  );
  return { log, lines, find: (msg) => lines.filter((line) => line.msg === msg) };
}

export const silentLogger: Logger = pino({ level: 'silent' });
