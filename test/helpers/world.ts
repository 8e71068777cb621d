// Shared set-up for signaling tests: a Hearth, signed-in people with sockets, polling, and cleanup after each test.
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestHearth, testTls, type TestHearth } from './hearth.js';
import { HttpClient } from './http-client.js';
import { TestSocket } from './ws-client.js';

/** until — polls `cond` until it holds; after `ms` it fails naming `what` (a hang, not a speed limit). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !(await cond()); await sleep(20)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Person — a registered account: its cookie-keeping client, id, display name, and a way to open tabs. */
export interface Person {
  http: HttpClient;
  id: string;
  /** The display name: the username in capitals. */
  name: string;
  tab(opts?: { resume?: string }): Promise<TestSocket>;
}

/** World — what a signaling test file works with. */
export interface World {
  hearth: TestHearth;
  ca: Buffer;
  /** person — a new account named `<prefix><n>` (or exactly `prefix` with exact: true) on `h` (default: the world's Hearth). */
  person(prefix: string, opts?: { on?: TestHearth; exact?: boolean }): Promise<Person>;
  /** client — a new anonymous cookie-keeping browser for the world's Hearth (closed after the suite). */
  client(): HttpClient;
}

/**
 * useWorld — for the enclosing mocha `describe`: starts a Hearth with `start` before its tests,
 * closes every socket opened through a Person after each test, and everything after the last.
 */
export function useWorld(start: () => Promise<TestHearth> = () => startTestHearth()): World {
  const clients: HttpClient[] = [];
  const open: TestSocket[] = [];
  let seq = 0;
  const world = {
    client(): HttpClient {
      const c = new HttpClient(world.hearth.origin, world.ca);
      clients.push(c);
      return c;
    },
    async person(prefix: string, opts: { on?: TestHearth; exact?: boolean } = {}): Promise<Person> {
      const h = opts.on ?? world.hearth;
      const username = opts.exact ? prefix : `${prefix}${++seq}`;
      const http = new HttpClient(h.origin, world.ca);
      clients.push(http);
      const r = await http.register(username, 'correct horse battery', username.toUpperCase());
      if (r.status !== 303) throw new Error(`register ${username}: ${r.status}`);
      const user = await h.app.users.findByUsername(username);
      return {
        http,
        id: user!.id,
        name: username.toUpperCase(),
        tab: async (tabOpts = {}) => {
          const s = await TestSocket.open(http, world.ca, tabOpts);
          open.push(s);
          return s;
        },
      };
    },
  } as World;
  before(async () => {
    world.ca = (await testTls()).ca;
    world.hearth = await start();
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await world.hearth?.close();
  });
  return world;
}
