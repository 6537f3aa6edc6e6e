import type { RequestHandler } from 'express';
import { AppError } from './http.js';

/**
 * After the JSON parser: a body it skipped, sent as another media type or with none declared (curl's
 * `-d` says form-urlencoded), would read as an empty one and answer 400 about a missing field. The
 * client's mistake is the media type: say so. A POST without a body (a checkout) is not concerned.
 * The ticketing API uses it for every request, the handler's operator API for its bulk replay.
 */
export function refuseNonJsonBodies(): RequestHandler {
  return (req, _res, next) => {
    if (req.body !== undefined || !hasBody(req.headers)) return next();
    const declared = req.headers['content-type'] ?? 'none';
    next(
      new AppError(415, 'unsupported_media_type', `a request body must be application/json, not ${declared}`, [
        { field: 'headers.content-type', message: 'must be application/json' },
      ]),
    );
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
