// Room chat history in Redis: a capped list per room that expires some time after the last message.
import { randomUUID } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ChatMessage } from '../../shared/protocol.js';
import type { RedisClient } from './redis.js';

/** CHAT_HISTORY — messages kept per room. */
export const CHAT_HISTORY = 500;
/** CHAT_TTL_DAYS — a room's chat is deleted this many days after its last message. */
export const CHAT_TTL_DAYS = 30;

const chatKey = (slug: string) => `room:${slug}:chat`;

/** CHAT_RATE — messages one user may send per 10 seconds, over the socket and the no-JS form alike. */
export const CHAT_RATE = 10;

/** ChatStore — append and read a room's recent messages. */
export class ChatStore {
  private readonly limiter: RateLimiterRedis;

  constructor(private readonly redis: RedisClient) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis, useRedisPackage: true, rejectIfRedisNotReady: true,
      keyPrefix: 'throttle:chat', points: CHAT_RATE, duration: 10,
    });
  }

  /** allow — counts one message for `userId`; false when they are sending too fast. */
  async allow(userId: string): Promise<boolean> {
    try {
      await this.limiter.consume(userId);
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) return false;
      throw err;
    }
  }

  async append(slug: string, m: Omit<ChatMessage, 'id' | 'ts'>): Promise<ChatMessage> {
    const message: ChatMessage = { id: randomUUID(), ts: Date.now(), ...m };
    await this.redis.multi()
      .rPush(chatKey(slug), JSON.stringify(message))
      .lTrim(chatKey(slug), -CHAT_HISTORY, -1)
      .expire(chatKey(slug), CHAT_TTL_DAYS * 24 * 3600)
      .exec();
    return message;
  }

  /** history — oldest first. */
  async history(slug: string, limit = CHAT_HISTORY): Promise<ChatMessage[]> {
    const rows = await this.redis.lRange(chatKey(slug), -limit, -1);
    return rows.flatMap((r) => {
      try {
        return [JSON.parse(r) as ChatMessage];
      } catch {
        return [];
      }
    });
  }
}
