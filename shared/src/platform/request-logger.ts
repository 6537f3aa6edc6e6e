import type { Request, RequestHandler, Response } from 'express';
import { decodeUriComponentOrAsIs } from './decode-uri.js';
import { isSecretKey, REDACTED } from './log-redaction.js';
import type { Logger } from './logger.js';
import { requestTrace } from './request-trace.js';
import { scrubAddresses } from './scrub-addresses.js';

/** Probes and scrapes come every few seconds: a line each would drown the requests that matter. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

type RequestLine = {
  req: { id: number; method: string; url: string };
  traceId?: string;
};

let lastRequestId = 0;

/**
 * One line per request as it ends: method, path, status and time, and the trace id when
 * `traceRequests` ran first. Never bodies, never headers. A 4xx is the client's mistake, already
 * answered: worth a line, not an alarm; a 5xx is an error.
 *
 * Not pino-http: it builds two child loggers per request, their bindings serialized and run
 * through redaction, before it knows whether a line will be written. With request lines below
 * the log level that was 6 % of the ticketing service's CPU for nothing (bench --profile); here
 * nothing is built unless a line is written.
 */
export function requestLogger(log: Logger): RequestHandler {
  return (req, res, next) => {
    const startedAt = performance.now();
    res.locals.requestId = ++lastRequestId;
    if (QUIET_PATHS.has(req.path)) return next();

    const onEnd = () => {
      res.removeListener('finish', onEnd);
      res.removeListener('close', onEnd);
      const completed = res.writableFinished;
      const level = !completed ? 'warn' : res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!log.isLevelEnabled(level)) return;
      log[level](
        {
          ...requestLine(req, res),
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - startedAt),
        },
        completed ? 'request completed' : 'request aborted before its answer was sent',
      );
    };
    res.on('finish', onEnd);
    res.on('close', onEnd);
    next();
  };
}

/** A logger whose lines carry the request's id and trace id, as the request line does. */
export function requestLog(log: Logger, req: Request, res: Response): Logger {
  return log.child(requestLine(req, res));
}

function requestLine(req: Request, res: Response): RequestLine {
  const trace = requestTrace(res);
  const line: RequestLine = {
    req: { id: res.locals.requestId, method: req.method, url: loggableUrl(req.originalUrl) },
  };
  if (trace) line.traceId = trace.traceId;
  return line;
}

/**
 * The path and its query with every address masked: the operator page and the status API filter by
 * recipient (`?email=...`), a client may put an address where an id goes (`/notifications/ada@...`,
 * answered 400), and a log outlives the personal-data retention. A query parameter named as a
 * secret (`?access_token=`, `?api_key=`: no route here takes one, but a client may send it
 * anyway) has its value redacted. A path or query with neither is left as it came.
 */
function loggableUrl(url: string): string {
  const start = url.indexOf('?');
  const path = start < 0 ? url : url.slice(0, start);
  const loggedPath = mayHoldAddress(path) ? path.split('/').map(maskSegment).join('/') : path;
  if (start < 0) return loggedPath;
  const query = url.slice(start + 1);
  // A `+` is read as a space in a query, which would cut `ada+news@example.com` in two and leave
  // its first half in clear: kept as a `+`, it stays in the address that is masked.
  const parameters = [...new URLSearchParams(query.replaceAll('+', '%2B'))];
  const secrets = parameters.some(([key]) => isSecretKey(key));
  if (!secrets && !mayHoldAddress(query)) return `${loggedPath}?${query}`;
  const masked = parameters.map(([key, value]): [string, string] => [
    scrubAddresses(key),
    isSecretKey(key) ? REDACTED : scrubAddresses(value),
  ]);
  return `${loggedPath}?${new URLSearchParams(masked).toString()}`;
}

function mayHoldAddress(text: string): boolean {
  return text.includes('@') || /%40/i.test(text);
}

/** A path segment, decoded when it can be (`ada%40example.com`), with its addresses masked. */
function maskSegment(segment: string): string {
  return mayHoldAddress(segment) ? scrubAddresses(decodeUriComponentOrAsIs(segment)) : segment;
}
