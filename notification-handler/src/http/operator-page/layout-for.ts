import type { Response } from 'express';
import type { OperatorAccess } from '../operator-auth/operator-access.js';
import type { SafeHtml } from './html.js';
import { type PageContext, sendPage } from './layout.js';
import { pageContext } from './page-guard.js';

/** The page frame for a guarded route: navigation, and the CSRF token its forms carry. */
export function layoutFor(res: Response, access: OperatorAccess) {
  const context: PageContext = pageContext(res, access);
  return {
    context,
    send: (status: number, title: string, body: SafeHtml) => sendPage(res, status, { title, body, context }),
  };
}
