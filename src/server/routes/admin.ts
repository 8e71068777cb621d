// The Admin page (/admin): registration and invitations, people, rooms, the action log.
import { Router } from 'express';
import type { Services } from '../services.js';

/** adminRoutes — /admin… (admins only; the caller enforces that with requireAdmin). */
export function adminRoutes(_s: Services): Router {
  const router = Router();
  return router;
}
