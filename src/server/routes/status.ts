// Health for the people who run the box: /admin/status (live figures and charts) and /metrics (Prometheus).
import { Router } from 'express';
import type { Services } from '../services.js';

/** metricsRoutes — /metrics (admins' sessions or METRICS_TOKEN); mounted before the signed-in gate. */
export function metricsRoutes(_s: Services): Router {
  const router = Router();
  return router;
}

/** statusRoutes — /admin/status… (admins only; the caller enforces that with requireAdmin). */
export function statusRoutes(_s: Services): Router {
  const router = Router();
  return router;
}
