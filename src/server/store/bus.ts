// The channel Hearth instances tell each other things on (Redis pub/sub): the only code that knows its name.
import type { RedisClient } from './redis.js';

const CHANNEL = 'hearth:events';

/** EventBus — JSON events published to every instance sharing this Redis, this one included. */
export class EventBus<T> {
  private readonly subscriber: RedisClient;

  constructor(private readonly redis: RedisClient) {
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', () => undefined); // the main client logs outages
  }

  /** start — `onEvent` hears every event from now on (node-redis re-subscribes by itself after a reconnect). */
  async start(onEvent: (ev: T) => void): Promise<void> {
    await this.subscriber.connect();
    await this.subscriber.subscribe(CHANNEL, (raw) => {
      let ev: T;
      try {
        ev = JSON.parse(raw) as T;
      } catch {
        return;
      }
      onEvent(ev);
    });
  }

  async stop(): Promise<void> {
    if (this.subscriber.isOpen) await this.subscriber.close().catch(() => this.subscriber.destroy());
  }

  async publish(ev: T): Promise<void> {
    await this.redis.publish(CHANNEL, JSON.stringify(ev));
  }
}
