// The lobby feed over real sockets: deltas, one message per window, late sockets catch up, bytes per change independent of idle sockets.
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { LobbyState } from '../../src/shared/lobby.js';
import type { ServerMessage, ServerMessageOf } from '../../src/shared/protocol.js';
import { buildLobbySnapshot } from '../../src/server/signaling/lobby-view.js';
import type { LobbyFeed } from '../../src/server/signaling/lobby-feed.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { TestSocket } from '../helpers/ws-client.js';

type LobbyMsg = ServerMessageOf<'lobby'> | ServerMessageOf<'lobby-delta'>;
const isLobby = (m: ServerMessage): m is LobbyMsg => m.type === 'lobby' || m.type === 'lobby-delta';

/** until — polls `cond` until it holds (fails after 10 s: a hang, not a speed limit). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(10)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

describe('lobby feed (real HTTPS, ws, Redis)', function () {
  this.timeout(60_000);
  let hearth: TestHearth;
  let feed: LobbyFeed;
  let ca: Buffer;
  const https: HttpClient[] = [];
  const sockets: TestSocket[] = [];
  let people = 0;
  let ownerId = '';

  /** user — a new account, signed in; `id` and `name` as the lobby shows them. */
  async function user(prefix: string): Promise<HttpClient & { id: string; name: string }> {
    const c = new HttpClient(hearth.origin, ca);
    https.push(c);
    const n = ++people;
    const r = await c.register(`${prefix}${n}`, 'correct horse battery', `${prefix} ${n}`);
    if (r.status !== 303) throw new Error(`register ${prefix}: ${r.status}`);
    const id = (await hearth.app.users.findByUsername(`${prefix}${n}`))!.id;
    return Object.assign(c, { id, name: `${prefix} ${n}` });
  }
  async function socket(c: HttpClient, server?: string): Promise<TestSocket> {
    const s = await TestSocket.open(c, ca, server ? { server } : {});
    sockets.push(s);
    return s;
  }
  const room = (name: string) => hearth.app.rooms.create({ name, ownerId, capacity: 12, passcodeHash: null });
  const lobbyMessages = (s: TestSocket) => s.received.filter(isLobby);
  /** settle — ends the feed's window now and waits until each socket holds the feed's last message. */
  async function settle(...socks: TestSocket[]): Promise<void> {
    await feed.flush();
    await until(() => socks.every((s) => s.lobby.seq === feed.sequence), 'every socket to hold the latest lobby');
  }
  const pageLobby = () => buildLobbySnapshot(hearth.app.rooms);
  const seenLobby = (s: TestSocket) => ({ online: s.lobby.online, rooms: s.lobby.rooms });
  const gone = (peerId: string) => until(async () => !(await hearth.app.rooms.online()).some((p) => p.peerId === peerId), 'the closed socket to leave Online now');

  before(async () => {
    // Every socket here comes from 127.0.0.1: lift the per-address cap the idle-socket test exceeds.
    hearth = await startTestHearth({}, { signalingLimits: { socketsPerUser: 100, socketsPerAddress: 1_000 } });
    ca = (await testTls()).ca;
    feed = hearth.app.hub.lobby;
    ownerId = (await user('owner')).id;
  });
  beforeEach(() => {
    // A window ends only when a test calls settle(): what it covers is then up to the test, not the clock.
    feed.configure({ minWindowMs: 600_000, maxWindowMs: 600_000 });
  });
  afterEach(async () => {
    const open = sockets.splice(0);
    for (const s of open) s.close();
    for (const s of open) await gone(s.peerId);
  });
  after(async () => {
    await Promise.all(https.map((c) => c.close()));
    await hearth.close();
  });

  it('sends a new socket the whole lobby once, then every change as a delta', async () => {
    const w = await socket(await user('watcher'));
    await settle(w);
    expect(lobbyMessages(w).map((m) => m.type)).to.deep.equal(['lobby']);

    const who = await user('mover');
    const mover = await socket(who);
    await settle(w, mover);
    const arrived = lobbyMessages(w).at(-1)!;
    expect(arrived.type).to.equal('lobby-delta');
    expect(arrived).to.deep.include({ online: { set: [{ userId: who.id, displayName: who.name, where: { kind: 'lobby' }, lobbyPeers: [mover.peerId] }], remove: [] }, rooms: { set: [], remove: [] } });

    const r = await room('Delta room');
    expect((await mover.request({ type: 'join', room: r.slug }, 'joined')).type).to.equal('joined');
    await settle(w, mover);
    const joined = lobbyMessages(w).at(-1) as ServerMessageOf<'lobby-delta'>;
    expect(joined.online.set).to.deep.equal([{ userId: who.id, displayName: who.name, where: { kind: 'room', slug: r.slug, name: 'Delta room' }, lobbyPeers: [] }]);
    expect(joined.rooms.set.map((x) => [x.slug, x.count])).to.deep.equal([[r.slug, 1]]);

    expect((await mover.request({ type: 'leave' }, 'left')).type).to.equal('left');
    await settle(w, mover);
    const left = lobbyMessages(w).at(-1) as ServerMessageOf<'lobby-delta'>;
    expect(left.rooms).to.deep.equal({ set: [], remove: [r.slug] });
    expect(left.online.set[0]?.where).to.deep.equal({ kind: 'lobby' });

    mover.close();
    await gone(mover.peerId);
    await settle(w);
    expect((lobbyMessages(w).at(-1) as ServerMessageOf<'lobby-delta'>).online).to.deep.equal({ set: [], remove: [who.id] });

    // One whole lobby, then deltas numbered without a gap.
    const all = lobbyMessages(w);
    expect(all.slice(1).every((m) => m.type === 'lobby-delta')).to.equal(true);
    expect(all.map((m) => m.seq - all[0]!.seq)).to.deep.equal(all.map((_, i) => i));
    expect(seenLobby(w)).to.deep.equal(await pageLobby());

    // A browser that missed a delta knows it (and reconnects for a whole lobby): it never applies the next one.
    const browser = new LobbyState();
    browser.apply(all[0]!);
    expect(browser.apply(all[2]!)).to.equal('gap');
    expect(browser.apply(all[3]!)).to.equal(null);
    expect(browser.apply(all[0]!)).to.deep.include({ full: true });
  });

  it('coalesces a burst of changes in one window into one message per socket', async () => {
    const watchers = [await socket(await user('eye')), await socket(await user('eye')), await socket(await user('eye'))];
    const movers: TestSocket[] = [];
    for (let u = 0; u < 4; u++) {
      const c = await user('burst');
      for (let t = 0; t < 3; t++) movers.push(await socket(c));
    }
    const rooms = [await room('Burst A'), await room('Burst B'), await room('Burst C')];
    const everyone = [...watchers, ...movers];
    await settle(...everyone);
    const before = everyone.map((s) => lobbyMessages(s).length);
    const seqBefore = feed.sequence;

    // 12 joins and 6 leaves, all inside one window.
    let changes = 0;
    for (const [i, m] of movers.entries()) {
      expect((await m.request({ type: 'join', room: rooms[i % 3]!.slug }, 'joined')).type).to.equal('joined');
      changes++;
    }
    for (const m of movers.filter((_, i) => i % 2 === 0)) {
      expect((await m.request({ type: 'leave' }, 'left')).type).to.equal('left');
      changes++;
    }
    expect(changes).to.equal(18);
    await settle(...everyone);

    expect(feed.sequence).to.equal(seqBefore + 1);
    expect(everyone.map((s, i) => lobbyMessages(s).length - before[i]!)).to.deep.equal(everyone.map(() => 1));
    const page = await pageLobby();
    for (const s of everyone) expect(seenLobby(s)).to.deep.equal(page);
    const delta = lobbyMessages(watchers[0]!).at(-1) as ServerMessageOf<'lobby-delta'>;
    expect(delta.rooms.set.map((r) => r.slug).sort()).to.deep.equal(rooms.map((r) => r.slug).sort());
    expect(delta.rooms.set.map((r) => r.count)).to.deep.equal([2, 2, 2]);

    // A window with no change sends nothing.
    await feed.flush();
    expect(feed.sequence).to.equal(seqBefore + 1);
    expect(everyone.map((s, i) => lobbyMessages(s).length - before[i]!)).to.deep.equal(everyone.map(() => 1));
  });

  it('brings a late socket to the same lobby as a page reload: the whole lobby, then deltas', async () => {
    const early = [await socket(await user('early')), await socket(await user('early')), await socket(await user('early'))];
    const [r1, r2] = [await room('Late one'), await room('Late two')];
    await early[0]!.request({ type: 'join', room: r1.slug }, 'joined');
    await early[1]!.request({ type: 'join', room: r1.slug }, 'joined');
    await settle(...early);

    const late = await socket(await user('late'));
    await settle(late, ...early);
    const first = lobbyMessages(late);
    expect(first.map((m) => m.type)).to.deep.equal(['lobby']);
    expect(seenLobby(late)).to.deep.equal(await pageLobby());

    // Changes of every kind, over several windows: joins, a move, a leave, a tab closing, a newcomer.
    await early[2]!.request({ type: 'join', room: r2.slug }, 'joined');
    await late.request({ type: 'join', room: r2.slug }, 'joined');
    await settle(late, ...early);
    await early[0]!.request({ type: 'leave' }, 'left');
    await early[0]!.request({ type: 'join', room: r2.slug }, 'joined');
    early[1]!.close();
    await gone(early[1]!.peerId);
    await settle(late, early[0]!, early[2]!);
    const newcomer = await socket(await user('newcomer'));
    await late.request({ type: 'leave' }, 'left');
    await settle(late, newcomer, early[0]!, early[2]!);

    const got = lobbyMessages(late);
    expect(got.slice(1).map((m) => m.type)).to.deep.equal(got.slice(1).map(() => 'lobby-delta'));
    expect(got.length).to.be.greaterThan(2);
    const page = await pageLobby();
    expect(seenLobby(late)).to.deep.equal(page);
    expect(seenLobby(newcomer)).to.deep.equal(page);
    expect(page.rooms.map((r) => r.slug)).to.deep.equal([r2.slug]);
  });

  it('costs each socket the same bytes per change however many sockets sit idle', async () => {
    const w = await socket(await user('meter'));
    const sizes: { seq: number; bytes: number; type: string }[] = [];
    w.ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (isLobby(m)) sizes.push({ seq: m.seq, bytes: d.length, type: m.type });
    });
    const mover = await socket(await user('mover'));
    const r = await room('Metered');
    await settle(w, mover);

    /** change — one join or leave, alone in its window: the bytes it cost each socket (sequence digits aside). */
    const change = async (msg: { type: 'join'; room: string } | { type: 'leave' }) => {
      await mover.request(msg, msg.type === 'join' ? 'joined' : 'left');
      await settle(w, mover);
      const last = sizes.at(-1)!;
      expect(last.type).to.equal('lobby-delta');
      return last.bytes - String(last.seq).length;
    };
    const fewIdle = [await change({ type: 'join', room: r.slug }), await change({ type: 'leave' })];

    // Forty idle sockets of twenty more people: Online now grows by twenty.
    const idle: TestSocket[] = [];
    for (let u = 0; u < 20; u++) {
      const c = await user('idle');
      idle.push(await socket(c), await socket(c));
    }
    await settle(w, mover, ...idle);
    expect(w.lobby.online.length).to.be.greaterThan(20);
    const manyIdle = [await change({ type: 'join', room: r.slug }), await change({ type: 'leave' })];
    expect(manyIdle).to.deep.equal(fewIdle);
    // The idle sockets got exactly the same messages as the watcher.
    await until(() => idle.every((s) => s.lobby.seq === feed.sequence), 'idle sockets to catch up');
    for (const s of idle) expect(seenLobby(s)).to.deep.equal(seenLobby(w));
  });

  it('reaches sockets on another instance within a window of their own (the bus, real timers)', async () => {
    const second = await startTestHearth({}, { flush: false, signalingLimits: { socketsPerUser: 100, socketsPerAddress: 1_000 } });
    try {
      feed.configure({ minWindowMs: 250, maxWindowMs: 1_000 });
      const there = await socket(await user('far'), second.origin);
      const mover = await socket(await user('near'));
      await until(() => there.lobby.online.some((p) => p.lobbyPeers.includes(mover.peerId)), 'the other instance to show the newcomer');
      const r = await room('Across');
      await mover.request({ type: 'join', room: r.slug }, 'joined');
      await until(() => there.lobby.room(r.slug)?.count === 1, 'the other instance to show the room');
      expect(lobbyMessages(there).filter((m) => m.type === 'lobby')).to.have.length(1);
      await until(async () => JSON.stringify(seenLobby(there)) === JSON.stringify(await pageLobby()), 'the other instance to match a page reload');
    } finally {
      for (const s of sockets.splice(0)) s.close();
      await second.close();
    }
  });
});
