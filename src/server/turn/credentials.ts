// Short-lived TURN credentials (the TURN REST scheme coturn's use-auth-secret checks): nothing stored per user.
import { createHmac } from 'node:crypto';
import type { TurnConfig } from '../config.js';
import type { IceServer } from '../../shared/protocol.js';

/** turnCredential — username `<expiry unix seconds>:<user id>`, password base64(HMAC-SHA1(secret, username)). */
export function turnCredential(secret: string, userId: string, lifeSeconds: number, now = Date.now()): { username: string; credential: string } {
  const username = `${Math.floor(now / 1000) + lifeSeconds}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** turnIceServers — the TURN server entry for one person's browser, or none when TURN is off. */
export function turnIceServers(turn: TurnConfig, userId: string, now = Date.now()): IceServer[] {
  if (!turn.servers) return [];
  return [{ urls: [...turn.servers.urls], ...turnCredential(turn.servers.secret, userId, turn.credentialSeconds, now) }];
}
