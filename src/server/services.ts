// What route modules may use: the stores and services createApp builds once (a route module takes only what it needs from here).
import type { AccountSessions } from './auth/account-sessions.js';
import type { PasswordHasher } from './auth/passwords.js';
import type { Assets } from './assets.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { SignalingHub } from './signaling/hub.js';
import type { SignalingServer } from './signaling/server.js';
import type { SharedFiles } from './signaling/shares.js';
import type { CallStore } from './store/calls.js';
import type { ChatStore } from './store/chat.js';
import type { RateLimits } from './store/limits.js';
import type { RedisClient } from './store/redis.js';
import type { RoomStore } from './store/rooms.js';
import type { ShareStore } from './store/shares.js';
import type { UserStore } from './store/users.js';

/** Services — built once per app by createApp. */
export interface Services {
  config: Config;
  log: Logger;
  redis: RedisClient;
  assets: Assets;
  hasher: PasswordHasher;
  rateLimits: RateLimits;
  users: UserStore;
  rooms: RoomStore;
  chat: ChatStore;
  calls: CallStore;
  hub: SignalingHub;
  signaling: SignalingServer;
  accountSessions: AccountSessions;
  shares: ShareStore;
  files: SharedFiles;
}
