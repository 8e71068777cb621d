// Room chat history in Redis: a capped list per room that expires some time after the last message.
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '../../shared/protocol.js';
import type { RateLimit } from './limits.js';
import type { RedisClient } from './redis.js';

/** Messages kept per room. */
const CHAT_HISTORY = 500;
/** A room's chat is deleted this many days after its last message. */
const CHAT_TTL_DAYS = 30;

/** chatKey — a room's chat history (a list; deleting the room deletes it too). */
export const chatKey = (slug: string) => `room:${slug}:chat`;

/** ChatStore — append and read a room's recent messages. */
export class ChatStore {
  /** `limit` counts messages per user, over the socket and the no-JS form alike. */
  constructor(private readonly redis: RedisClient, private readonly limit: RateLimit) {}

  /** allow — counts one message for `userId`; false when they are sending too fast. */
  async allow(userId: string): Promise<boolean> {
    return (await this.limit.take(userId)) === 0;
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
