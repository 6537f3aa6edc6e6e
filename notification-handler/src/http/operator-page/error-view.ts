import { AppError } from '@notify/shared/platform';
import type { ErrorRequestHandler } from 'express';
import { html } from './html.js';
import { sendPage } from './layout.js';

/**
 * The page's refusals as a page for a browser (with the status and code the API would give); other
 * clients get the one JSON error shape, and anything unexpected goes on to the service's error
 * handler, which logs it and answers 500.
 */
export const pageErrors: ErrorRequestHandler = (error, req, res, next) => {
  const status = error instanceof AppError ? error.status : Number(error?.status ?? error?.statusCode);
  if (!(status >= 400 && status < 500) && status !== 503) return next(error);
  if (req.accepts(['application/json', 'text/html']) !== 'text/html') return next(error);
  const message = error instanceof AppError ? error.message : 'bad request';
  const details = error instanceof AppError ? (error.details ?? []) : [];
  const code = error instanceof AppError ? error.code : 'bad_request';
  if (status === 503) res.set('Retry-After', '1');
  sendPage(res, status, {
    title: `Not done (${status})`,
    body: html`<p class="error">${message}</p>
${details.length > 0 ? html`<ul>${details.map((d) => html`<li>${d.field}: ${d.message}</li>`)}</ul>` : ''}
<p class="note">Code: ${code}. <a href="/">Back to the overview</a></p>`,
  });
};
