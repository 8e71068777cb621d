// Resume tokens: a tab that reconnects proves a peer id was its own, so it keeps it (and its calls keep their connections).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** resumeToken — given in `welcome`; valid for the same user only, also after a restart (the secret persists). */
export function resumeToken(secret: string, userId: string, peerId: string): string {
  return `${peerId}.${createHmac('sha256', secret).update(`resume:${userId}:${peerId}`).digest('base64url')}`;
}

/** resumedPeerId — the peer id a valid token names for this user, else null. */
export function resumedPeerId(secret: string, userId: string, token: string | null): string | null {
  if (!token || token.length > 128) return null;
  const peerId = token.split('.')[0] ?? '';
  if (!/^[A-Za-z0-9_-]{16}$/.test(peerId)) return null;
  const want = Buffer.from(resumeToken(secret, userId, peerId));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got) ? peerId : null;
}
