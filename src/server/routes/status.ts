// Health for the people who run the box: /admin/status (live figures and charts) and /metrics (Prometheus).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Response } from 'express';
import { describeFigures } from '../../shared/status.js';
import { forbidden, HttpError } from '../http-error.js';
import { metricsFor, type HearthMetrics } from '../metrics.js';
import type { Services } from '../services.js';

const CHALLENGE = 'Bearer realm="Hearth metrics"';

/** sameSecret — compares in constant time (digests first, so not even the length shows). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** bearerToken — the token of `Authorization: Bearer <token>`, or null for any other scheme. */
function bearerToken(header: string): string | null {
  const m = /^Bearer +([^\s]+) *$/i.exec(header);
  return m ? m[1]! : null;
}

async function sendMetrics(res: Response, metrics: HearthMetrics): Promise<void> {
  const text = await metrics.scrape();
  res.set('Cache-Control', 'no-store');
  res.type(metrics.registry.contentType).send(text);
}

const refused = (status: 401 | 403, message: string) => new HttpError(status, status === 401 ? 'Sign in first' : 'Not allowed', message);

/**
 * metricsByToken — /metrics for a scraper that sends `Authorization: Bearer <METRICS_TOKEN>`.
 * Mounted before sessions and before the "database is down" answer: a token scrape touches no
 * session, and must still answer while Redis is down (that is when hearth_redis_up 0 matters).
 * Requests without an Authorization header go on to {@link metricsRoutes}.
 */
export function metricsByToken(s: Services): Router {
  const router = Router();
  router.get('/metrics', async (req, res, next) => {
    const header = req.headers.authorization;
    if (header === undefined) return next('router');
    const token = bearerToken(header);
    const expected = s.config.metricsToken;
    if (!token || !expected || !sameSecret(token, expected)) {
      res.set('WWW-Authenticate', `${CHALLENGE}, error="invalid_token"`);
      throw refused(401, 'That token does not open the metrics of this Hearth.');
    }
    await sendMetrics(res, metricsFor(s));
  });
  return router;
}

/** metricsRoutes — /metrics for an admin's session (browser or scraper with the cookie); mounted before the signed-in gate. */
export function metricsRoutes(s: Services): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const user = res.locals.user;
    if (!user) {
      res.set('WWW-Authenticate', CHALLENGE);
      throw refused(401, 'Metrics are for the people who run this Hearth: sign in as an admin, or scrape with the METRICS_TOKEN.');
    }
    if (!user.isAdmin || user.disabled) throw forbidden('Metrics are for the people who run this Hearth.');
    await sendMetrics(res, metricsFor(s));
  });
  return router;
}

/** statusRoutes — /admin/status… (admins only; the caller enforces that with requireAdmin). */
export function statusRoutes(s: Services): Router {
  const router = Router();
  // Built on first use: an app nobody asks about starts no process metrics.
  const metrics = () => metricsFor(s);

  router.get('/status', async (_req, res) => {
    const figures = await metrics().figures();
    res.render('admin-status', {
      title: 'Status',
      figures: describeFigures(figures, figures.messagesPerSecond),
      readAt: new Date(figures.at),
      redisUp: figures.redis.up,
      scripts: s.assets.islands.status ? [s.assets.islands.status] : [],
    });
  });

  router.get('/status.json', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(await metrics().figures());
  });
  return router;
}
