import { Router } from 'express';
import type { AppDependencies } from '../../app.js';
import { deadLetterPages } from './dead-letter-pages.js';
import { pageErrors } from './error-view.js';
import { layoutFor } from './layout-for.js';
import { notificationPages } from './notification-pages.js';
import { readOverview } from './overview.js';
import { renderOverview } from './overview-view.js';
import { guardPage } from './page-guard.js';
import { replayPages } from './replay-pages.js';
import { signInRoutes } from './sign-in-routes.js';

const HOUR_MS = 60 * 60 * 1_000;

/**
 * The operator page: server-rendered HTML at `/` and under `/operator/`, forms only, no script.
 * Every route but sign-in is behind the guard; each change is a GET confirmation, then a POST.
 */
export function operatorPageRoutes(deps: AppDependencies): Router {
  const { access } = deps.operator;
  const router = Router();
  router.use(signInRoutes(access));
  router.get('/', guardPage(access), async (_req, res) => {
    const overview = await readOverview(deps);
    const since = new Date(Date.now() - HOUR_MS).toISOString();
    layoutFor(res, access).send(200, 'Overview', renderOverview(overview, since));
  });
  router.use('/operator', guardPage(access));
  router.use(notificationPages(deps));
  router.use(replayPages(deps));
  router.use(deadLetterPages(deps));
  router.use(pageErrors);
  return router;
}
