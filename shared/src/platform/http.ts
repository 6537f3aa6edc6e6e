import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import type { z } from 'zod';
import { closeConnectionsAfterAnswers } from './closing-connections.js';
import { DEFAULT_HOST } from './config.js';
import { classifyDatabaseError, hasSqlState, isDriverConnectionError } from './database-errors.js';
import { createExpressServer } from './express-server.js';
import type { Logger } from './logger.js';
import { requestLog } from './request-logger.js';

export type ErrorDetail = { field: string; message: string };

/** The one error type routes throw; the error handler turns it into the one JSON error shape. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

/**
 * Validates one part of a request; a failure is a 400 naming every wrong field. A field a strict
 * object does not know is named itself (`body.stauts`), not the object that holds it.
 */
export function parseRequest<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  part: 'body' | 'params' | 'query',
): z.infer<Schema> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const details = result.error.issues.flatMap((issue): ErrorDetail[] => {
    const path = [part, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        field: [...path, key].join('.'),
        message: 'is not a field this request takes',
      }));
    return [{ field: path.join('.'), message: issue.message }];
  });
  throw new AppError(400, 'validation_failed', `invalid ${part}: ${details.map((d) => d.field).join(', ')}`, details);
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

type HttpError = Error & { status?: number; statusCode?: number; type?: string; expose?: boolean };

/** Last in the chain: known errors answer with their status; anything else is a logged 500. */
export function errorHandler(serviceLog: Logger): ErrorRequestHandler {
  return (error: HttpError, req, res, _next) => {
    const body = toErrorBody(error);
    if (body.status === 503) {
      res.set('Retry-After', '1');
      // A refusal the service chose (shutting down, overloaded) is in the request line already,
      // and under overload one more line per refused request would cost what is short.
      if (!(error instanceof AppError))
        requestLog(serviceLog, req, res).warn(
          { err: error },
          body.code === CONCURRENT_CHANGE
            ? 'request refused: it collided with a concurrent one'
            : 'request refused: a dependency is unavailable',
        );
    } else if (body.status >= 500) {
      requestLog(serviceLog, req, res).error({ err: error }, 'request failed');
    }
    res.status(body.status).json({ error: { code: body.code, message: body.message, details: body.details } });
  };
}

const CONCURRENT_CHANGE = 'concurrent_change';

function toErrorBody(error: HttpError): { status: number; code: string; message: string; details?: ErrorDetail[] } {
  if (error instanceof AppError) return error;
  // A deadlock or a serialization failure rolled the statement back: the same request, sent
  // again, meets no such collision, and a 500 would tell the client not to retry.
  if (hasSqlState(error) && classifyDatabaseError(error) === 'conflict') {
    return { status: 503, code: CONCURRENT_CHANGE, message: 'the request met a concurrent change; try again' };
  }
  if (isUnavailable(error)) {
    return { status: 503, code: 'unavailable', message: 'a dependency is unavailable; try again shortly' };
  }
  // body-parser's errors carry a status and a type; their messages are safe to show.
  const status = error.status ?? error.statusCode;
  if (status && status >= 400 && status < 500) {
    if (error.type === 'entity.parse.failed')
      return { status, code: 'malformed_json', message: 'body is not valid JSON' };
    if (error.type === 'entity.too.large') return { status, code: 'body_too_large', message: error.message };
    return { status, code: error.type ?? 'bad_request', message: error.expose ? error.message : 'bad request' };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}

// What a socket to a dependency fails with when the dependency is away: a host or network out of
// reach (EHOSTUNREACH, ENETUNREACH, during a failover) as much as a refused connection. A list, not
// any error that names a system call: a file's ENOENT is a fault of ours, not a dependency away.
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The database (or another dependency) is away, not the request wrong: a 503 tells the client to
 * try again. A server error counts when its SQLSTATE says so (a connection failure, a shutdown, a
 * read-only standby during a failover, a statement timeout, too many connections: the same reading
 * as the handler's); an error without one, when it is a socket's or the driver's own.
 */
function isUnavailable(error: HttpError & { code?: unknown }): boolean {
  if (hasSqlState(error)) return classifyDatabaseError(error) === 'unavailable';
  const code = typeof error.code === 'string' ? error.code : '';
  return CONNECTION_ERROR_CODES.has(code) || isDriverConnectionError(error);
}

export type RunningServer = {
  server: Server;
  /** The address actually bound, e.g. 127.0.0.1 or 0.0.0.0. */
  host: string;
  port: number;
  /** Where a client on this machine reaches it: a wildcard address is reached on loopback. */
  url: string;
  /**
   * Stops accepting, drops idle keep-alives, lets the requests under way finish (see `closeGraceMs`)
   * and closes each of their connections after its answer.
   */
  close: () => Promise<void>;
};

/**
 * How long a client may take to send a request. Node's own bounds (60 s for the headers, 300 s for
 * the whole request) let a slow or stalled client hold a connection, and a stop waiting for it,
 * for minutes; a request here is a few hundred bytes of JSON. Node checks them every
 * `checkingIntervalMs` and answers 408.
 */
export type RequestTimeouts = { headersMs: number; requestMs: number; checkingIntervalMs: number };

export const REQUEST_TIMEOUTS: RequestTimeouts = { headersMs: 10_000, requestMs: 30_000, checkingIntervalMs: 1_000 };

export type ListenOptions = {
  port: number;
  /** Loopback unless told otherwise: the APIs have no authentication. */
  host?: string;
  /** Hears the server's errors once it listens (a failed accept: too many open files, say). */
  log: Logger;
  requestTimeouts?: RequestTimeouts;
  /**
   * How long a close lets the requests under way finish before it cuts the connections still open
   * (default: the request timeout). A client that sends its body a byte at a time, or never reads
   * its answer, would otherwise hold the stop until the request timeout, past the service's
   * shutdown timeout, and the steps after the server's (the relay's last batch) would never run.
   */
  closeGraceMs?: number;
};

/**
 * Listens, and gives a close that lets in-flight requests finish, then closes their connections,
 * and drops idle keep-alives.
 */
export function listen(
  app: Express,
  { port, host = DEFAULT_HOST, log, requestTimeouts = REQUEST_TIMEOUTS, closeGraceMs }: ListenOptions,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = createExpressServer(app, requestTimeouts.checkingIntervalMs);
    server.headersTimeout = requestTimeouts.headersMs;
    server.requestTimeout = requestTimeouts.requestMs;
    const startClosing = closeConnectionsAfterAnswers(server);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err }, 'http server error'));
      const address = server.address() as AddressInfo;
      resolve({
        server,
        host: address.address,
        port: address.port,
        url: localUrl(address),
        close: () =>
          new Promise<void>((done, fail) => {
            startClosing();
            const cut = setTimeout(() => server.closeAllConnections(), closeGraceMs ?? requestTimeouts.requestMs);
            server.close((closeError) => {
              clearTimeout(cut);
              if (closeError) fail(closeError);
              else done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

function localUrl({ address, family, port }: AddressInfo): string {
  if (address === '0.0.0.0' || address === '::') return `http://127.0.0.1:${port}`;
  return family === 'IPv6' ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}
