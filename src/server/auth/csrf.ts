// CSRF protection for POST forms with no server-side state: a signed double-submit cookie (csrf-csrf).
import { createHmac } from 'node:crypto';
import cookieParser from 'cookie-parser';
import { doubleCsrf, type DoubleCsrfUtilities } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';

/**
 * CSRF_COOKIE — holds the same token as the form. `__Host-` makes the browser insist on Secure,
 * Path=/ and no Domain, so no other host on the LAN (nor a plain-HTTP page) can plant one.
 */
export const CSRF_COOKIE = '__Host-hearth-csrf';

/** CSRF_FIELD — the hidden form field (views/partials/mixins.pug, `+csrf()`). */
const CSRF_FIELD = '_csrf';

// What a signed-out form's token is bound to. Anonymous visitors have no session (keeping one
// per visitor is what filled Redis), so their tokens rest on the cookie alone, which another
// site cannot read or set; signed-in tokens are bound to the session as well.
const ANONYMOUS = 'anonymous';

const INSTANCE = Symbol('hearth.csrf');
type CsrfRequest = Request & { [INSTANCE]?: DoubleCsrfUtilities };

/**
 * csrfTokens — installs CSRF for the app (after the session parser): gives views a `csrfToken`
 * (one per response, reused while the cookie stays valid) and lets {@link csrfProtection} check posts.
 * The signing key is derived from the session secret, so the two uses never share a key.
 */
export function csrfTokens(sessionSecret: string): RequestHandler {
  const key = createHmac('sha256', sessionSecret).update('hearth csrf token v1').digest('base64url');
  const identity = (req: Request): string => (req.session?.userId ? `session:${req.sessionID}` : ANONYMOUS);
  const csrf = doubleCsrf({
    getSecret: () => key,
    getSessionIdentifier: identity,
    cookieName: CSRF_COOKIE,
    // Lax, like the session cookie: a tab opened from a link keeps the token the other tabs' forms carry.
    cookieOptions: { sameSite: 'lax', secure: true, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => {
      const body = req.body as Record<string, unknown> | undefined;
      const fromBody = body?.[CSRF_FIELD];
      return typeof fromBody === 'string' ? fromBody : req.headers['x-csrf-token'];
    },
  });
  const parseCookies = cookieParser();
  return (req, res, next) => {
    parseCookies(req, res, (err?: unknown) => {
      if (err) return next(err);
      (req as CsrfRequest)[INSTANCE] = csrf;
      // Every form and the meta tag on a page must carry the same token as the one cookie set,
      // so it is made once per response (again only if the session changed meanwhile).
      let made: { id: string; token: string } | null = null;
      Object.defineProperty(res.locals, 'csrfToken', {
        enumerable: true,
        configurable: true,
        get: () => {
          const id = identity(req);
          if (made?.id !== id) made = { id, token: csrf.generateCsrfToken(req, res) };
          return made.token;
        },
      });
      next();
    });
  };
}

/** csrfProtection — refuses a POST whose token is missing, foreign or not signed by this Hearth (403 "Form expired"). */
export const csrfProtection: RequestHandler = (req, res, next) => {
  const csrf = (req as CsrfRequest)[INSTANCE];
  // Fail closed: a route mounted without csrfTokens() in front of it accepts nothing.
  if (!csrf) return next(new Error('csrfProtection used without csrfTokens() installed'));
  csrf.doubleCsrfProtection(req, res, next);
};

/** isCsrfError — the error csrfProtection passes on for a bad token. */
export const isCsrfError = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: string }).code === 'EBADCSRFTOKEN';
