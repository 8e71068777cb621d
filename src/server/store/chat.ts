// Room chat history in Redis: a capped list per room that expires some time after the last message.
import { randomUUID } from 'node:crypto';
import { describeTransfer } from '../../shared/ledger.js';
import type { ChatMessage } from '../../shared/protocol.js';
import type { RateLimit } from './limits.js';
import type { RedisClient } from './redis.js';

/** Messages kept per room. */
const CHAT_HISTORY = 500;
/** A room's chat is deleted this many days after its last message. */
const CHAT_TTL_DAYS = 30;

/** chatKey — a room's chat history (a list; deleting the room deletes it too). */
export const chatKey = (slug: string) => `room:${slug}:chat`;

/**
 * DELETED_USER — who a deleted account's chat lines are from: nobody (the nil UUID, which no
 * account has, keeps every message the protocol's shape), named "Deleted user".
 */
export const DELETED_USER = { userId: '00000000-0000-0000-0000-000000000000', displayName: 'Deleted user' } as const;

// Replaces list elements by value (ARGV: old1, new1, old2, new2, …), wherever they are now: the
// list may have been appended to and trimmed since it was read. LSET keeps the list's expiry.
const REPLACE_ELEMENTS = `
local swap = {}
for i = 1, #ARGV, 2 do swap[ARGV[i]] = ARGV[i + 1] end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local n = 0
for i, item in ipairs(items) do
  local new = swap[item]
  if new then redis.call('LSET', KEYS[1], i - 1, new); n = n + 1 end
end
return n`;

/** anonymised — message `m` as a deleted user's line: no account, "Deleted user" as its name (in a file-transfer line too). */
function anonymised(m: ChatMessage): ChatMessage {
  const out: ChatMessage = { ...m, ...DELETED_USER };
  if (m.transfer) {
    // The line's author is the sender, or the receiver reporting its own check.
    const transfer = m.transfer.by === 'receiver' ? { ...m.transfer, toName: DELETED_USER.displayName } : { ...m.transfer, fromName: DELETED_USER.displayName };
    out.transfer = transfer;
    out.text = describeTransfer(transfer);
  }
  return out;
}

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

  /**
   * forgetUser — a deleted account's lines in every room's chat stay, from "Deleted user" with
   * no account id. Returns how many lines were rewritten. Bounded: CHAT_HISTORY lines per room.
   */
  async forgetUser(userId: string): Promise<number> {
    let rewritten = 0;
    for await (const keys of this.redis.scanIterator({ MATCH: chatKey('*'), TYPE: 'list', COUNT: 500 })) {
      for (const key of keys) {
        const swaps: string[] = [];
        for (const raw of await this.redis.lRange(key, 0, -1)) {
          let m: ChatMessage;
          try {
            m = JSON.parse(raw) as ChatMessage;
          } catch {
            continue;
          }
          if (m.userId === userId) swaps.push(raw, JSON.stringify(anonymised(m)));
        }
        if (swaps.length > 0) rewritten += Number(await this.redis.eval(REPLACE_ELEMENTS, { keys: [key], arguments: swaps }));
      }
    }
    return rewritten;
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
