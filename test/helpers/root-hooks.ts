// Mocha root hooks: one real redis-server for the whole run, stopped by PID afterwards.
import { startRedis, type TestRedis } from './processes.js';

let redis: TestRedis | null = null;

/** sharedRedis — the run's redis-server (started in beforeAll). */
export function sharedRedis(): TestRedis {
  if (!redis) throw new Error('the shared redis-server is not running (root hook did not run?)');
  return redis;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(15_000);
    redis = await startRedis();
  },
  async afterAll() {
    await redis?.stop();
    redis = null;
  },
};
