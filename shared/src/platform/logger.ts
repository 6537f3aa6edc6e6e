import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { redactSecrets, serializeError } from './log-redaction.js';

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
    return withRedactedBindings(pino({ ...loggerOptions(level), name, transport }));
  }
  // Each line is on stdout before the call returns, as console.log's are on a file or a pipe: a
  // kill -9 or an out-of-memory kill loses none of the lines that led up to it (nor an email's
  // result), and a log collector that stalls holds the service back instead of letting unwritten
  // lines pile up in its memory. pino's default writes on libuv's thread pool and buffers lines
  // meanwhile; per line it costs about the same CPU (bench/README.md, "A request line").
  return createLoggerTo(pino.destination({ dest: 1, sync: true }), level, name);
}

/** A logger with the services' rules, writing JSON lines to `destination` (the tests' loggers too). */
export function createLoggerTo(destination: DestinationStream, level: string, name?: string): Logger {
  return withRedactedBindings(pino({ ...loggerOptions(level), ...(name ? { name } : {}) }, destination));
}

function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    formatters: { log: redactSecrets, bindings: redactSecrets },
    serializers: { err: serializeError },
  };
}

/**
 * pino runs `formatters.bindings` on the root logger's bindings only, never on a child's; every
 * child (and its children: they inherit `child` from it) goes through this instead.
 */
function withRedactedBindings(root: Logger): Logger {
  const createChild = root.child;
  root.child = function childWithoutSecrets(this: Logger, bindings, options) {
    return createChild.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return root;
}
