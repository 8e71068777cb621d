// The reset link an admin hands over (/reset/<token>): choose a new password once, be signed out everywhere else, and signed in here.
import { Router, type Request, type Response } from 'express';
import { validateRegistration } from '../../shared/accounts.js';
import { csrfProtection } from '../auth/csrf.js';
import type { Services } from '../services.js';
import { PasswordResetStore } from '../store/password-resets.js';
import type { User } from '../store/users.js';
import { signIn } from './auth.js';

const LINK_GONE = 'This link has been used or has expired.';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** passwordError — the registration rule for passwords (the other fields are the account's own). */
const passwordError = (password: string): string | undefined =>
  validateRegistration({ username: 'placeholder', displayName: 'placeholder', password }).password;

/** passwordResetRoutes — GET and POST /reset/:token (anonymous: mounted before the signed-in gate). */
export function passwordResetRoutes(s: Pick<Services, 'redis' | 'users' | 'hasher' | 'accountSessions' | 'log'>): Router {
  const router = Router();
  const resets = new PasswordResetStore(s.redis);

  const render = (res: Response, status: number, locals: { account?: User | null; error?: string | null; gone?: string | null; token?: string }) =>
    res.status(status).render('reset-password', {
      title: locals.gone ? 'Reset link' : 'Choose a new password',
      account: locals.account ?? null,
      error: locals.error ?? null,
      gone: locals.gone ?? null,
      action: locals.token ? `/reset/${encodeURIComponent(locals.token)}` : '',
    });

  /** accountFor — the enabled account a live link is for, or why the page cannot go on. */
  const accountFor = async (token: string): Promise<{ user: User } | { status: number; gone: string }> => {
    const userId = await resets.userOf(token);
    const user = userId ? await s.users.findById(userId) : null;
    if (!user) return { status: 410, gone: LINK_GONE };
    if (user.disabled) return { status: 403, gone: 'This account is disabled.' };
    return { user };
  };

  router.get('/reset/:token', async (req: Request<{ token: string }>, res) => {
    res.set('Referrer-Policy', 'no-referrer'); // the token is in the address
    const token = req.params.token;
    const found = await accountFor(token);
    if ('gone' in found) return render(res, found.status, { gone: found.gone });
    render(res, 200, { account: found.user, token });
  });

  router.post('/reset/:token', csrfProtection, async (req: Request<{ token: string }>, res) => {
    res.set('Referrer-Policy', 'no-referrer');
    const token = req.params.token;
    const found = await accountFor(token);
    if ('gone' in found) return render(res, found.status, { gone: found.gone });
    const password = str(req.body?.password);
    const problem = passwordError(password);
    if (problem) return render(res, 400, { account: found.user, token, error: problem });
    // Hashed before the link is used: a busy hasher (503) leaves the link working.
    const hash = await s.hasher.hash(password);
    // The link is used here, atomically: of two people sending the form at once, one wins.
    const userId = await resets.consume(token);
    if (userId !== found.user.id) return render(res, 410, { gone: LINK_GONE });
    await s.users.setPasswordHash(userId, hash);
    // Whoever had the old password is out, on every device and socket.
    await s.accountSessions.endAll(userId);
    await signIn(req, found.user, s.accountSessions);
    s.log.info({ userId }, 'password set with a reset link');
    res.redirect(303, '/');
  });

  return router;
}
