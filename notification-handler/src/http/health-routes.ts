import { Router } from 'express';
import type { AppDependencies } from '../app.js';

export function healthRoutes({ pingDatabase, isConsuming, isDraining }: AppDependencies): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const database = await pingDatabase().then(
      () => 'up',
      () => 'down',
    );
    const broker = isConsuming() ? 'up' : 'down';
    const ready = database === 'up' && broker === 'up' && !isDraining();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', database, broker, draining: isDraining() });
  });

  return router;
}
