import { Router } from 'express';
import type { AppDependencies } from '../app.js';

export function healthRoutes({ probeDatabase, isConnected, isDraining, describeHealth }: AppDependencies): Router {
  const router = Router();

  // Alive even with the provider's breaker open: a restart would not bring the provider back.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', ...describeHealth() });
  });

  router.get('/readyz', async (_req, res) => {
    const database = await probeDatabase().then(
      () => 'up',
      () => 'down',
    );
    const broker = isConnected() ? 'up' : 'down';
    const ready = database === 'up' && broker === 'up' && !isDraining();
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', database, broker, draining: isDraining(), ...describeHealth() });
  });

  return router;
}
