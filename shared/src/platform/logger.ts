import type { EventEmitter } from 'node:events';
import { writeSync } from 'node:fs';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { redactErrorText, redactSecrets, redactUrl, serializeError } from './log-redaction.js';

export { REDACTED, redactSecrets, redactUrl, serializeError } from './log-redaction.js';
export type { Logger };

export type LoggerSettings = {
  name: string;
  level: string;
  format: 'json' | 'pretty';
};

export function createLogger({ name, level, format }: LoggerSettings): Logger {
  // pino-pretty is a dev dependency: ask for it only where it is installed.
  if (format === 'pretty') {
    const transport = {
      target: 'pino-pretty',
      options: { colorize: true, singleLine: true, ignore: 'pid,hostname' },
    };
    return hearWriteFailures(buildLogger({ level, name, transport }));
  }
  // Each line is on stdout before the call returns, as console.log's are on a file or a pipe: a
  // kill -9 or an out-of-memory kill loses none of the lines that led up to it (nor an email's
  // result), and a log collector that stalls holds the service back instead of letting unwritten
  // lines pile up in its memory. pino's default writes on libuv's thread pool and buffers lines
  // meanwhile; per line it costs about the same CPU (bench/README.md, "A request line").
  return hearWriteFailures(
    buildLogger({ level, name }, pino.destination({ dest: 1, sync: true, maxLength: MAX_UNWRITTEN_BYTES })),
  );
}

/**
 * What the logger holds while stdout refuses its writes (a log file on a full disk): each line
 * waits behind the one that failed, and is written once stdout takes them again. Past this, new
 * lines are dropped rather than held, so that an outage of the log's disk cannot fill the memory.
 */
const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;

/**
 * pino's destination swallows only EPIPE: any other failed write (ENOSPC, EIO) is emitted as an
 * 'error' with no listener, which throws out of whichever log call met it, a request's or a
 * shutdown's, and out of the fatal handler's own line, which ends the process with its resources
 * unclosed. Logging that fails must not take the service down: the lines are lost (or held, see
 * MAX_UNWRITTEN_BYTES), and stderr, the one place left to say it, hears it once per outage.
 */
function hearWriteFailures(log: Logger): Logger {
  const stream = (log as unknown as Record<symbol, EventEmitter | undefined>)[pino.symbols.streamSym];
  let failing = false;
  stream?.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    tellStderr(
      { err: { code: err.code, message: err.message } },
      'log lines cannot be written to stdout; later lines are held or lost',
    );
    stream.once('write', () => {
      failing = false;
      tellStderr({}, 'log lines are written to stdout again');
    });
  });
  return log;
}

/** Synchronous and never throwing: stderr may be on the same failing disk, and a stream would emit 'error' in turn. */
function tellStderr(fields: Record<string, unknown>, msg: string): void {
  try {
    writeSync(2, `${JSON.stringify({ level: 50, time: Date.now(), ...fields, msg })}\n`);
  } catch {
    // Nowhere left to say it.
  }
}

/** A logger with the services' rules, writing JSON lines to `destination`: the tests' loggers. */
export function createLoggerTo(destination: DestinationStream, level: string): Logger {
  return buildLogger({ level }, destination);
}

// Where a URL's password could be: a scheme's `://`, or a libpq-style password parameter.
const MAY_HOLD_PASSWORD = /:\/\/|pass|pwd/i;

const redactText = (text: string) => (MAY_HOLD_PASSWORD.test(text) ? redactUrl(text) : text);

/**
 * The line's message is no field, so `formatters.log` never sees it: a message written with a URL
 * in it goes through redactUrl here. And a line logged with an `err` and no message gets the
 * error's own message as its `msg` from pino (a driver's 'connect failed to amqp://user:pw@...'):
 * it is given that message, redacted as the error serializer redacts it, first.
 */
function withRedactedMessage(this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  const [first] = args;
  const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
  const redacted =
    args.length === 1 && err instanceof Error
      ? [first, redactErrorText(err.message)]
      : args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg));
  method.apply(this, redacted);
}

/** Every logger of ours: no secret in a line or in a child's bindings, errors by their safe fields. */
function buildLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const root = pino(
    {
      ...options,
      formatters: { log: redactSecrets },
      serializers: { err: serializeError },
      hooks: { logMethod: withRedactedMessage },
    },
    destination,
  );
  // pino has no hook that formats a child's bindings (`formatters.bindings` runs on the root's own
  // only): every child, and each of its children, which inherit `child` from the root, comes here.
  const createChild = root.child;
  root.child = function childWithoutSecrets(this: Logger, bindings, childOptions) {
    return createChild.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return root;
}
