import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CloseCode, ErrorCode, MAX_PAYLOAD } from '../../src/shared/protocol.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { cookieOf, frame, rawConnect, type RawSocket } from '../helpers/raw-ws.js';
import { until, useWorld, type Person } from '../helpers/world.js';
import { TestSocket } from '../helpers/ws-client.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** heapAfterGc — the test process's heap (the server runs in it) once garbage is collected. */
async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
}

const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** badFrames — one random protocol violation (each makes ws close the socket) or a valid-but-hostile frame. */
function randomFrames(): Buffer {
  const r = Math.random();
  const junk = randomBytes(Math.floor(Math.random() * 40));
  if (r < 0.08) return frame(3 + Math.floor(Math.random() * 5), junk); // reserved data opcodes 3–7
  if (r < 0.14) return frame(11 + Math.floor(Math.random() * 5), junk); // reserved control opcodes 11–15
  if (r < 0.2) return frame(OP.text, '{"type":"leave"}', { rsv: 1 + Math.floor(Math.random() * 7) });
  if (r < 0.26) return frame(OP.text, '{"type":"leave"}', { mask: false });
  if (r < 0.32) return frame(OP.continuation, junk); // continuation without a start
  if (r < 0.38) return Buffer.concat([frame(OP.text, '{"type":', { fin: false }), frame(OP.binary, junk)]); // new message inside a fragmented one
  if (r < 0.44) return frame(OP.ping, randomBytes(126)); // control frame over 125 bytes
  if (r < 0.5) return frame(OP.close, Buffer.from([0x03, 0xe7])); // close code 999 (invalid)
  if (r < 0.56) return frame(OP.text, Buffer.from([0xc3, 0x28, 0xff])); // invalid UTF-8
  if (r < 0.62) return frame(OP.text, Buffer.alloc(0), { claimLength: MAX_PAYLOAD + 1 + Math.floor(Math.random() * 1e9) }); // oversized
  if (r < 0.7) return frame(OP.ping, junk.subarray(0, 20), { fin: false }); // fragmented control frame
  if (r < 0.8) return frame(OP.binary, junk); // binary: refused, counted
  if (r < 0.9) return frame(OP.text, junk.toString('latin1').replace(/[^\x20-\x7e]/g, '?')); // text garbage
  return randomBytes(1 + Math.floor(Math.random() * 30)); // bytes that are not even a frame
}

describe('hostile sockets: nobody can crash Hearth or outstay their welcome (real HTTPS, ws, Redis)', function () {
  this.timeout(120_000);
  const world = useWorld(() => startTestHearth({}, { heartbeatMs: 500, signalingLimits: { socketsPerAddress: 10_000, socketsPerUser: 10_000 } }));
  const user = (name: string, on?: TestHearth): Promise<Person> => world.person(name, { on, exact: true });

  describe('the crash found on main', () => {
    it('survives an invalid frame right behind a resume upgrade while the old socket still lives', async () => {
      const c = await user('crasher');
      const first = await c.tab();
      // Reserved opcode 3, in the same TCP write as the upgrade: it is parsed while the old socket is being retired.
      const raw = rawConnect(world.hearth.origin, world.ca, { path: `/ws?resume=${encodeURIComponent(first.resume)}`, cookie: cookieOf(c.http), trailing: frame(3, 'boom') });
      const { status, closeCode } = await raw.ended;
      expect(status).to.equal(101);
      expect(closeCode).to.equal(1002); // protocol error, said to the client; the process lives on
      // The server still works, and the peer id is not stuck: a proper resume gets it back.
      await until(() => world.hearth.app.signaling.openSockets === 0, 'both sockets to be cleaned up', 5_000);
      const again = await c.tab({ resume: first.resume });
      expect(again.peerId).to.equal(first.peerId);
    });

    it('cleans up a resumed socket that closes while the old one is being retired, and the next resume works', async () => {
      const c = await user('quitter');
      const watcher = await (await user('quitwatch')).tab();
      const first = await c.tab();
      await watcher.next('lobby', (m) => m.online.some((o) => o.displayName === 'QUITTER'), 5_000).catch(() => undefined);
      const gone = watcher.next('lobby', (m) => !m.online.some((o) => o.displayName === 'QUITTER'), 5_000);
      // The new socket closes at once, while the old one is still being retired.
      const raw = rawConnect(world.hearth.origin, world.ca, { path: `/ws?resume=${encodeURIComponent(first.resume)}`, cookie: cookieOf(c.http), trailing: frame(OP.close, Buffer.from([0x03, 0xe8])) });
      await raw.ended;
      raw.socket.destroy();
      await until(async () => !(await world.hearth.app.rooms.online()).some((p) => p.peerId === first.peerId), 'the peer to be gone from presence', 5_000);
      await gone;
      const back = watcher.next('lobby', (m) => m.online.some((o) => o.displayName === 'QUITTER'), 5_000);
      const again = await c.tab({ resume: first.resume });
      expect(again.peerId).to.equal(first.peerId);
      await back;
    });
  });

  describe('raw-frame fuzz', () => {
    it('stays up through 10,000 hostile frames at every stage of a socket, closes each bad socket with a protocol code, and returns to its memory baseline', async () => {
      const c = await user('fuzzraw');
      const calm = await (await user('fuzzcalm')).tab();
      const room = await world.hearth.app.rooms.create({ name: 'Fuzz', ownerId: (await world.hearth.app.users.findByUsername('fuzzraw'))!.id, capacity: 12, passcodeHash: null });
      const cookie = cookieOf(c.http);
      // Warm up once so lazily built things (schemas, pools) are in the baseline.
      await (rawConnect(world.hearth.origin, world.ca, { cookie, trailing: frame(3) })).ended;
      await until(() => world.hearth.app.signaling.openSockets === 1, 'warm-up cleanup', 5_000);
      const baseline = await heapAfterGc();

      let frames = 0;
      const codes = new Map<string, number>();
      const tally = (k: string) => codes.set(k, (codes.get(k) ?? 0) + 1);
      const stages = ['fresh', 'resume-live', 'resume-closing', 'mid-join'] as const;
      const one = async (stage: (typeof stages)[number]): Promise<void> => {
        let path = '/ws';
        let old: TestSocket | null = null;
        if (stage !== 'fresh' && stage !== 'mid-join') {
          old = await TestSocket.open(c.http, world.ca);
          path = `/ws?resume=${encodeURIComponent(old.resume)}`;
          if (stage === 'resume-closing') old.close(4000);
        }
        const burst: Buffer[] = [];
        if (stage === 'mid-join') burst.push(frame(OP.text, JSON.stringify({ type: 'join', room: room.slug })));
        const n = 5 + Math.floor(Math.random() * 40);
        for (let i = 0; i < n; i++) burst.push(randomFrames());
        frames += n;
        const raw: RawSocket = rawConnect(world.hearth.origin, world.ca, { path, cookie, trailing: Buffer.concat(burst) });
        // A socket the server has not closed after its burst (only valid-looking frames) is closed
        // by us, but only once the server has answered the upgrade (a busy machine may be slow).
        let timer: NodeJS.Timeout | undefined;
        void raw.answered.then(() => (timer = setTimeout(() => raw.socket.end(), 1_500)));
        const { status, closeCode } = await raw.ended;
        clearTimeout(timer);
        tally(`${status}:${closeCode ?? 'none'}`);
        old?.ws.terminate();
      };
      const workers = Array.from({ length: 16 }, async () => {
        while (frames < 10_000) await one(stages[Math.floor(Math.random() * stages.length)]!);
      });
      await Promise.all(workers);
      expect(frames).to.be.at.least(10_000);
      // Every refusal was a WebSocket close with a protocol code (or none, where we hung up).
      for (const k of codes.keys()) expect(k, JSON.stringify([...codes])).to.match(/^101:(1002|1007|1009|4008|none|1005|1006|1000)$/);
      expect([...codes].some(([k]) => k === '101:1002'), JSON.stringify([...codes])).to.equal(true);

      // Everything is cleaned up: only the calm socket remains, and it still works.
      await until(() => world.hearth.app.signaling.openSockets === 1, `sockets to close (${world.hearth.app.signaling.openSockets} open)`, 10_000);
      const lobby = calm.next('lobby', () => true, 5_000);
      calm.send({ type: 'dnd', on: false });
      await calm.next('dnd');
      await lobby.catch(() => undefined);
      await sleep(500);
      const after = await heapAfterGc();
      expect(after - baseline, `heap grew from ${baseline} to ${after}`).to.be.below(16 * 1024 * 1024);
    });
  });

  describe('floods', () => {
    it('counts binary frames like text: a client streaming tiny binary frames is closed with 4008', async () => {
      const strict = await startTestHearth({}, { flush: false, signalingLimits: { messagesPerSecond: 50, strikesPer10s: 20 } });
      try {
        const c = await user('binflood', strict);
        const s = await TestSocket.open(c.http, world.ca);
        for (let i = 0; i < 500; i++) s.sendRaw(Buffer.from([i & 0xff]));
        expect((await s.waitClosed()).code).to.equal(CloseCode.PolicyViolation);
      } finally {
        await strict.close();
      }
    });

    it('drops a client that floods and never reads, instead of buffering its replies without end', async () => {
      const c = await user('noreader');
      const raw = rawConnect(world.hearth.origin, world.ca, { cookie: cookieOf(c.http) });
      // Stop reading: the TLS socket's buffers fill and the server's replies pile up on its side.
      raw.socket.pause();
      const chunk = Buffer.concat(Array.from({ length: 200 }, () => frame(OP.binary, Buffer.from([1]))));
      const started = Date.now();
      while (!raw.socket.destroyed && Date.now() - started < 20_000) {
        raw.write(chunk);
        await sleep(5);
      }
      raw.socket.resume();
      await raw.ended;
      await until(() => world.hearth.app.signaling.openSockets <= 1, 'the flooding socket to be gone', 5_000);
    });

    it('caps sockets per account with 4429 "too many Hearth tabs open" (and per address)', async () => {
      const capped = await startTestHearth({}, { flush: false, signalingLimits: { socketsPerUser: 3, socketsPerAddress: 5 } });
      try {
        const a = await user('manytabs', capped);
        const tabs = [await TestSocket.open(a.http, world.ca), await TestSocket.open(a.http, world.ca), await TestSocket.open(a.http, world.ca)];
        const fourth = rawConnect(capped.origin, world.ca, { cookie: cookieOf(a.http) });
        expect(await fourth.ended).to.deep.equal({ status: 101, closeCode: CloseCode.TooManySockets });
        // A resumed tab replaces its old socket: it is not one more.
        const resumed = await TestSocket.open(a.http, world.ca, { resume: tabs[0]!.resume });
        expect(resumed.peerId).to.equal(tabs[0]!.peerId);
        // Another account on the same address: allowed up to the address cap (5), then refused.
        const b = await user('sameaddress', capped);
        const bTabs = [await TestSocket.open(b.http, world.ca), await TestSocket.open(b.http, world.ca)];
        const over = rawConnect(capped.origin, world.ca, { cookie: cookieOf(b.http) });
        expect((await over.ended).closeCode).to.equal(CloseCode.TooManySockets);
        for (const s of [...tabs, resumed, ...bTabs]) s.close();
      } finally {
        await capped.close();
      }
    });

    it('limits ledger entries like chat, so they cannot flush a room\'s history', async () => {
      const c = await user('ledgerflood');
      const s = await c.tab();
      const room = await world.hearth.app.rooms.create({ name: 'Ledger', ownerId: (await world.hearth.app.users.findByUsername('ledgerflood'))!.id, capacity: 6, passcodeHash: null });
      await s.request({ type: 'join', room: room.slug }, 'joined');
      const entry = { type: 'ledger', transferId: 'AAAAAAAAAAAA', to: null, name: 'x.bin', size: 1, sha256: null, state: 'offered' };
      for (let i = 0; i < 40; i++) s.send({ ...entry, ref: `l${i}` });
      await s.next('error', (m) => m.code === ErrorCode.RateLimited);
      await sleep(300);
      const history = await world.hearth.app.chat.history(room.slug);
      expect(history.length).to.be.at.most(10);
    });
  });

  describe('sessions end everywhere at once', () => {
    it('Sign out closes that session\'s sockets with 4401 within 2 s; the same person\'s other session stays', async () => {
      const phone = await user('signsout');
      const laptop = new HttpClient(world.hearth.origin, world.ca);
      expect((await laptop.login('signsout', 'correct horse battery')).status).to.equal(303);
      const [p1, p2, l1] = [await phone.tab(), await phone.tab(), await TestSocket.open(laptop, world.ca)];
      const _csrf = await phone.http.csrfToken('/');
      const t0 = Date.now();
      expect((await phone.http.postForm('/logout', { _csrf })).status).to.equal(303);
      expect((await p1.waitClosed(2_000)).code).to.equal(CloseCode.SessionEnded);
      expect((await p2.waitClosed(2_000)).code).to.equal(CloseCode.SessionEnded);
      expect(Date.now() - t0).to.be.below(2_000);
      expect(l1.closed).to.equal(null);
      l1.close();
      await laptop.close();
      // A socket of the ended session can do nothing any more; a new one is refused with 4401.
      const again = rawConnect(world.hearth.origin, world.ca, { cookie: cookieOf(phone.http) });
      expect(await again.ended).to.deep.equal({ status: 101, closeCode: CloseCode.SessionEnded });
    });

    it('closes sockets within 2 s when the session expires while they are open', async () => {
      const c = await user('expires');
      const sid = decodeURIComponent(c.http.cookies.get('__Host-hearth')!).slice(2).split('.')[0]!;
      const redis = world.hearth.redis;
      // The idle timeout arrives 1.5 s from now (as if the last request were 12 hours ago).
      await redis.pExpire(`sess:${sid}`, 1_500);
      const s = await c.tab();
      const closed = await s.waitClosed(4_000);
      expect(closed.code).to.equal(CloseCode.SessionEnded);
    });

    it('applies SESSION_MAX_DAYS to the upgrade and to open sockets', async () => {
      const c = await user('tooold');
      const sid = decodeURIComponent(c.http.cookies.get('__Host-hearth')!).slice(2).split('.')[0]!;
      const key = `sess:${sid}`;
      const data = JSON.parse((await world.hearth.redis.get(key))!) as { signedInAt: number };
      const maxMs = world.hearth.config.sessionMaxDays * 24 * 3600_000;
      // Ends 1.5 s from now: an open socket closes then.
      await world.hearth.redis.set(key, JSON.stringify({ ...data, signedInAt: Date.now() - maxMs + 1_500 }), { KEEPTTL: true });
      const s = await c.tab();
      expect((await s.waitClosed(4_000)).code).to.equal(CloseCode.SessionEnded);
      // Past it: the upgrade itself ends with 4401.
      await world.hearth.redis.set(key, JSON.stringify({ ...data, signedInAt: Date.now() - maxMs - 1 }), { KEEPTTL: true });
      expect(await rawConnect(world.hearth.origin, world.ca, { cookie: cookieOf(c.http) }).ended).to.deep.equal({ status: 101, closeCode: CloseCode.SessionEnded });
    });

    it('answers an upgrade without a session with 4401, so the page goes to sign-in instead of retrying', async () => {
      expect(await rawConnect(world.hearth.origin, world.ca, {}).ended).to.deep.equal({ status: 101, closeCode: CloseCode.SessionEnded });
      expect(await rawConnect(world.hearth.origin, world.ca, { cookie: '__Host-hearth=s%3Aforged.sig' }).ended).to.deep.equal({ status: 101, closeCode: CloseCode.SessionEnded });
      // A foreign Origin is still refused before any upgrade.
      expect((await rawConnect(world.hearth.origin, world.ca, { origin: 'https://evil.example' }).ended).status).to.equal(403);
    });
  });

  describe('shutdown', () => {
    it('closes within 3 s even when clients stopped reading', async () => {
      const h2 = await startTestHearth({}, { flush: false });
      const c = await user('stuck', h2);
      const raws: RawSocket[] = [];
      for (let i = 0; i < 5; i++) {
        const r = rawConnect(h2.origin, world.ca, { cookie: cookieOf(c.http) });
        r.socket.pause();
        raws.push(r);
      }
      await until(() => h2.app.signaling.openSockets === 5, 'five sockets', 5_000);
      const t0 = Date.now();
      await h2.close();
      expect(Date.now() - t0).to.be.below(3_000);
      for (const r of raws) r.socket.destroy();
    });
  });
});
