import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Paths pino replaces with '[redacted]' wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.apiSecret',
  '*.MAILJET_API_KEY',
  '*.MAILJET_API_SECRET',
  '*.DATABASE_URL',
  '*.AMQP_URL',
];

export type LoggerSettings = {
  name: string;
  level: string;
  format: 'json' | 'pretty';
};

export function createLogger({ name, level, format }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
  };
  // pino-pretty is a dev dependency: ask for it only where it is installed.
  if (format === 'pretty') {
    options.transport = {
      target: 'pino-pretty',
      options: { colorize: true, singleLine: true, ignore: 'pid,hostname' },
    };
    return pino(options);
  }
  // Each line is on stdout before the call returns, as console.log's are on a file or a pipe: a
  // kill -9 or an out-of-memory kill loses none of the lines that led up to it (nor an email's
  // result), and a log collector that stalls holds the service back instead of letting unwritten
  // lines pile up in its memory. pino's default writes on libuv's thread pool and buffers lines
  // meanwhile; per line it costs about the same CPU (bench/README.md, "A request line").
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

/** `user:password@` in any URL becomes `user:***@`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@/\s]*@/gi, '$1:***@');
}

type ErrorLike = Error & { code?: unknown; statusCode?: unknown; cause?: unknown };

/**
 * Copies only known-safe fields. pino's standard serializer copies every enumerable property, and
 * some clients' errors carry their request config, credentials included (node-mailjet's `config`).
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: redactUrl(String(error)) };
  const { code, statusCode, cause } = error as ErrorLike;
  return {
    type: error.name,
    message: redactUrl(error.message),
    stack: error.stack ? redactUrl(error.stack) : undefined,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    ...(cause instanceof Error ? { cause: serializeError(cause) } : {}),
  };
}
