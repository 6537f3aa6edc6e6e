import { Router } from 'express';
import { checkReadiness, type ReadinessDependencies } from '../domain/check-readiness.js';

export function healthRoutes(deps: ReadinessDependencies): Router {
  const router = Router();
  // Alive as long as the process answers; restarting it would not bring a database back.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(deps);
    res.status(readiness.database === 'up' ? 200 : 503).json(readiness);
  });
  return router;
}
