import { Router } from 'express';
import type pg from 'pg';
import { listCatalog } from '../domain/list-catalog.js';

export function catalogRoutes(deps: { pool: pg.Pool }): Router {
  const router = Router();
  router.get('/events', async (_req, res) => {
    res.json({ events: await listCatalog(deps.pool) });
  });
  return router;
}
