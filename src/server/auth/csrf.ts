// CSRF protection for POST forms: a synchronizer token kept in the session (csrf-sync).
import { csrfSync } from 'csrf-sync';

/** csrf — the token helpers and the protecting middleware; the form field is `_csrf`. */
export const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = typeof body?._csrf === 'string' ? body._csrf : undefined;
    return fromBody ?? (req.headers['x-csrf-token'] as string | undefined);
  },
});

export const isCsrfError = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: string }).code === 'EBADCSRFTOKEN';
