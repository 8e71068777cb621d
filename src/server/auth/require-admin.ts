// Guards admin-only routes: signed-in admins pass, everyone else gets 403 (never a hint of what is there).
import type { RequestHandler } from 'express';
import { forbidden } from '../http-error.js';

/** requireAdmin — 403 for anyone who is not a signed-in, enabled admin (run after the signed-in gate). */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  const user = res.locals.user;
  if (user?.isAdmin && !user.disabled) return next();
  next(forbidden('This page is for the people who run this Hearth.'));
};
