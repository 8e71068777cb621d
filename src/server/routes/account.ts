// The Account page (/account): display name, password, signed-in devices, delete account.
import { Router } from 'express';
import type { Services } from '../services.js';

/** accountRoutes — /account… (signed-in users only; the caller enforces that). */
export function accountRoutes(_s: Services): Router {
  const router = Router();
  return router;
}
