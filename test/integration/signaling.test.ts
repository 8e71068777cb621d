import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloseCode, ErrorCode, MAX_PAYLOAD } from '../../src/shared/protocol.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { rawConnect } from '../helpers/raw-ws.js';
import { rawUpgrade, TestSocket } from '../helpers/ws-client.js';

describe('signaling channel /ws (real HTTPS, ws, Redis)', function () {
  this.timeout(30_000);
  let hearth: TestHearth;
  let ca: Buffer;
  const https: HttpClient[] = [];
  const sockets: TestSocket[] = [];
  let roomSeq = 0;

  async function user(name: string): Promise<HttpClient> {
    const c = new HttpClient(hearth.origin, ca);
    https.push(c);
    const r = await c.register(name, 'correct horse battery', name.toUpperCase());
    if (r.status !== 303) throw new Error(`register ${name}: ${r.status}`);
    return c;
  }
  async function socket(c: HttpClient): Promise<TestSocket> {
    const s = await TestSocket.open(c, ca);
    sockets.push(s);
    return s;
  }
  async function room(owner: string, capacity = 6, passcode?: string) {
    const o = await hearth.app.users.findByUsername(owner);
    const passcodeHash = passcode ? await import('argon2').then((a) => a.default.hash(passcode)) : null;
    roomSeq++;
    return hearth.app.rooms.create({ name: `Room ${roomSeq}`, ownerId: o!.id, capacity, passcodeHash });
  }

  before(async () => {
    hearth = await startTestHearth({}, { heartbeatMs: 500, signalingLimits: { messagesPerSecond: 2_000, strikesPer10s: 5_000, socketsPerUser: 100, socketsPerAddress: 1_000, pendingFrames: 5_000 } });
    ca = (await testTls()).ca;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await Promise.all(https.map((c) => c.close()));
    await hearth.close();
  });

  describe('upgrade', () => {
    it('closes a socket without a session with 4401 (the page goes to sign-in), and a wrong path with 404', async () => {
      expect(await rawConnect(hearth.origin, ca, {}).ended).to.deep.equal({ status: 101, closeCode: CloseCode.SessionEnded });
      expect((await rawConnect(hearth.origin, ca, { path: '/wss' }).ended).status).to.equal(404);
    });
    it('answers 403 to a foreign Origin (cross-site WebSocket hijacking)', async () => {
      const c = await user('olga');
      const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      expect(await rawUpgrade(hearth.origin, ca, { cookie, origin: 'https://evil.example' })).to.equal(403);
      expect(await rawUpgrade(hearth.origin, ca, { cookie })).to.equal(403);
      expect(await rawUpgrade(hearth.origin, ca, { cookie, origin: hearth.origin })).to.equal(101);
    });
    it('closes with 1009 on a frame above the 64 KiB limit', async () => {
      const s = await socket(await user('pete'));
      s.sendRaw(JSON.stringify({ type: 'chat', text: 'x'.repeat(MAX_PAYLOAD + 10) }));
      expect((await s.waitClosed()).code).to.equal(1009);
    });
    it('greets with welcome, then the lobby', async () => {
      const c = await user('quinn');
      const s = await socket(c);
      expect(s.received[0]?.type).to.equal('welcome');
      const lobby = await s.next('lobby', (m) => m.online.some((o) => o.displayName === 'QUINN'));
      expect(lobby.online.find((o) => o.displayName === 'QUINN')?.where).to.deep.equal({ kind: 'lobby' });
    });
  });

  describe('malformed messages', () => {
    const table: [string, string, ErrorCode][] = [
      ['not JSON', '{type:', ErrorCode.BadJson],
      ['a JSON string', '"join"', ErrorCode.BadMessage],
      ['a JSON array', '[1,2]', ErrorCode.BadMessage],
      ['null', 'null', ErrorCode.BadMessage],
      ['no type', '{"room":"x"}', ErrorCode.UnknownType],
      ['an unknown type', '{"type":"explode"}', ErrorCode.UnknownType],
      ['a numeric type', '{"type":5}', ErrorCode.UnknownType],
      ['join without room', '{"type":"join"}', ErrorCode.BadMessage],
      ['join with a bad slug', '{"type":"join","room":"../../etc"}', ErrorCode.BadMessage],
      ['join with an extra field', '{"type":"join","room":"abc-def","admin":true}', ErrorCode.BadMessage],
      ['signal with a forged from', '{"type":"signal","to":"AAAAAAAAAAAA","from":"BBBBBBBBBBBB","payload":{"kind":"candidate","candidate":null}}', ErrorCode.BadMessage],
      ['signal with an unknown payload kind', '{"type":"signal","to":"AAAAAAAAAAAA","payload":{"kind":"evil"}}', ErrorCode.BadMessage],
      ['signal with an oversized SDP', JSON.stringify({ type: 'signal', to: 'AAAAAAAAAAAA', payload: { kind: 'description', description: { type: 'offer', sdp: 'v'.repeat(60_001) } } }), ErrorCode.BadMessage],
      ['media with a string', '{"type":"media","muted":"yes","cameraOff":false}', ErrorCode.BadMessage],
      ['chat that is empty', '{"type":"chat","text":"   "}', ErrorCode.BadMessage],
      ['chat over 2,000 characters', JSON.stringify({ type: 'chat', text: 'x'.repeat(2001) }), ErrorCode.BadMessage],
      ['leave when not in a room', '{"type":"leave"}', ErrorCode.NotInRoom],
      ['chat when not in a room', '{"type":"chat","text":"hi"}', ErrorCode.NotInRoom],
      ['signal to an unknown lobby peer', '{"type":"signal","to":"AAAAAAAAAAAA","payload":{"kind":"candidate","candidate":null}}', ErrorCode.PeerNotFound],
      ['join of an unknown room', '{"type":"join","room":"no-such-room"}', ErrorCode.RoomNotFound],
    ];
    let s: TestSocket;
    before(async () => {
      s = await TestSocket.open(await user('mal'), ca);
    });
    after(() => s.close());
    for (const [what, raw, code] of table) {
      it(`answers ${what} with ${code} and stays open`, async () => {
        const reply = s.next('error');
        s.sendRaw(raw);
        const err = await reply;
        expect(err.code).to.equal(code);
        expect(err.message).to.be.a('string').and.not.equal('');
        expect(s.closed).to.equal(null);
      });
    }
    it('echoes the ref of a bad message', async () => {
      const reply = s.next('error');
      s.sendRaw('{"type":"join","room":"!!","ref":"r-17"}');
      expect((await reply).ref).to.equal('r-17');
    });
    it('refuses binary frames with a typed error', async () => {
      const reply = s.next('error');
      s.sendRaw(Buffer.from([1, 2, 3]));
      expect((await reply).code).to.equal(ErrorCode.BadMessage);
    });
  });

  describe('fuzz', () => {
    it('survives 1,500 random and mutated messages, answering each bad one with a typed error, without disturbing others', async () => {
      const fuzzer = await socket(await user('fuzzer'));
      const a = await socket(await user('calm1'));
      const b = await socket(await user('calm2'));
      const r = await room('calm1');
      await a.request({ type: 'join', room: r.slug }, 'joined');
      await b.request({ type: 'join', room: r.slug }, 'joined');

      const valid = [
        { type: 'join', room: 'abc-def-ghij' },
        { type: 'leave' },
        { type: 'signal', to: 'AAAAAAAAAAAA', payload: { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0', sdpMLineIndex: 0 } } },
        { type: 'media', muted: true, cameraOff: false },
        { type: 'chat', text: 'hello' },
      ];
      const junk = () => {
        const pick = Math.random();
        if (pick < 0.2) return randomBytes(1 + Math.floor(Math.random() * 64)).toString('latin1');
        const base = JSON.parse(JSON.stringify(valid[Math.floor(Math.random() * valid.length)])) as Record<string, unknown>;
        const keys = Object.keys(base);
        const k = keys[Math.floor(Math.random() * keys.length)]!;
        const values = [null, 0, -1, 1e308, '', 'x'.repeat(70), [], {}, true, '__proto__', { constructor: { prototype: {} } }];
        if (pick < 0.5) base[k] = values[Math.floor(Math.random() * values.length)];
        else if (pick < 0.7) base[`extra${Math.floor(Math.random() * 9)}`] = 1;
        else if (pick < 0.8) delete base[k];
        else if (pick < 0.9) base.type = ['Join', 'SIGNAL', 'ping', '', 'constructor', 'toString'][Math.floor(Math.random() * 6)];
        else return JSON.stringify(base).slice(0, Math.floor(Math.random() * 20));
        return JSON.stringify(base);
      };

      let errors = 0;
      const others: string[] = [];
      fuzzer.ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.type === 'error') {
          expect(Object.values(ErrorCode)).to.include(m.code);
          errors++;
        } else others.push(m.type);
      });
      const N = 1_500;
      for (let i = 0; i < N; i++) fuzzer.sendRaw(junk());
      // Then a valid request must still be answered: the connection and server are fine.
      // 1,500 frames take a while on a busy machine: the reply is waited for generously.
      const done = fuzzer.next('error', (m) => m.ref === 'final', 30_000);
      fuzzer.send({ type: 'join', room: 'zz-not-here', ref: 'final' });
      await done;
      expect(fuzzer.closed).to.equal(null);
      expect(errors).to.be.greaterThan(N * 0.8);
      // Every reply was either a typed error or a legitimate server message.
      expect(others.every((t) => ['lobby', 'lobby-delta', 'joined', 'left', 'peer-joined', 'peer-left', 'peer-updated', 'chat', 'room-closed'].includes(t)), others.join(',')).to.equal(true);

      // The calm pair still talks.
      const got = b.next('signal');
      a.send({ type: 'signal', to: b.peerId, payload: { kind: 'app', app: 'ping', data: { n: 1 } } });
      expect((await got).from).to.equal(a.peerId);
    });

    it('closes a connection that keeps abusing the rate limit with 4008', async () => {
      const strict = await startTestHearth({}, { signalingLimits: { messagesPerSecond: 20, strikesPer10s: 30 }, flush: false });
      const c = new HttpClient(strict.origin, ca);
      try {
        await c.register('abuser', 'correct horse battery');
        const s = await TestSocket.open(c, ca);
        for (let i = 0; i < 200; i++) s.sendRaw('{"type":"leave"}');
        expect((await s.waitClosed()).code).to.equal(CloseCode.PolicyViolation);
        expect(s.received.some((m) => m.type === 'error' && m.code === ErrorCode.RateLimited)).to.equal(true);
      } finally {
        await c.close();
        await strict.close();
      }
    });
  });

  describe('authorisation', () => {
    it('relays signals only between members of the same room, stamping from', async () => {
      const [a, b, c] = await Promise.all([user('ann'), user('ben'), user('cid')]);
      const [sa, sb, sc] = [await socket(a), await socket(b), await socket(c)];
      const r1 = await room('ann');
      const r2 = await room('cid');
      expect((await sa.request({ type: 'join', room: r1.slug }, 'joined')).type).to.equal('joined');
      const joinedB = await sb.request({ type: 'join', room: r1.slug }, 'joined');
      expect(joinedB.type === 'joined' && joinedB.peers.map((p) => p.peerId)).to.deep.equal([sa.peerId]);
      await sc.request({ type: 'join', room: r2.slug }, 'joined');

      const got = sb.next('signal');
      sa.send({ type: 'signal', to: sb.peerId, payload: { kind: 'description', description: { type: 'offer', sdp: 'v=0' } } });
      const m = await got;
      expect(m.from).to.equal(sa.peerId);
      expect(m.payload).to.deep.equal({ kind: 'description', description: { type: 'offer', sdp: 'v=0' } });

      // To a member of another room, and to a peer id that does not exist: refused.
      const e1 = await sa.request({ type: 'signal', to: sc.peerId, payload: { kind: 'candidate', candidate: null } }, 'signal');
      expect(e1).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
      const e2 = await sa.request({ type: 'signal', to: 'ZZZZZZZZZZZZZZZZ', payload: { kind: 'candidate', candidate: null } }, 'signal');
      expect(e2).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
      await sleep(100);
      expect(sc.received.some((x) => x.type === 'signal')).to.equal(false);

      // Lobby peers may signal each other (lobby file transfers), but not peers in a room.
      const [d, e] = [await socket(await user('dee')), await socket(await user('eve'))];
      const gotE = e.next('signal');
      d.send({ type: 'signal', to: e.peerId, payload: { kind: 'app', app: 'transfer', data: { hi: 1 } } });
      expect((await gotE).from).to.equal(d.peerId);
      const e3 = await d.request({ type: 'signal', to: sa.peerId, payload: { kind: 'candidate', candidate: null } }, 'signal');
      expect(e3).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
      const e4 = await sa.request({ type: 'signal', to: d.peerId, payload: { kind: 'candidate', candidate: null } }, 'signal');
      expect(e4).to.include({ type: 'error', code: ErrorCode.PeerNotFound });
    });

    it('lets only the owner delete a room, and tells its members', async () => {
      const owner = await user('own');
      const other = await user('oth');
      const r = await room('own');
      const so = await socket(other);
      await so.request({ type: 'join', room: r.slug }, 'joined');
      const _csrf = await other.csrfToken('/');
      const refused = await other.postForm(`/r/${r.slug}/delete`, { _csrf });
      expect(refused.status).to.equal(403);
      expect(await hearth.app.rooms.get(r.slug)).to.not.equal(null);
      const closed = so.next('room-closed');
      const ok = await owner.postForm(`/r/${r.slug}/delete`, { _csrf: await owner.csrfToken('/') });
      expect(ok.status).to.equal(303);
      expect((await closed).room).to.equal(r.slug);
      expect(await hearth.app.rooms.get(r.slug)).to.equal(null);
      expect((await other.get(`/r/${r.slug}`)).status).to.equal(404);
    });
  });

  describe('capacity', () => {
    it('admits exactly 4 of 20 racing joins to a 4-seat room, every time', async () => {
      const owner = await user('racer');
      const socks = await Promise.all(Array.from({ length: 20 }, () => TestSocket.open(owner, ca)));
      sockets.push(...socks);
      for (let round = 0; round < 3; round++) {
        const r = await room('racer', 4);
        const replies = await Promise.all(socks.map((s) => s.request({ type: 'join', room: r.slug }, 'joined')));
        const admitted = replies.filter((m) => m.type === 'joined');
        const full = replies.filter((m) => m.type === 'error' && m.code === ErrorCode.RoomFull);
        expect(admitted).to.have.length(4);
        expect(full).to.have.length(16);
        expect(full[0]).to.have.property('message', 'This room is full (4 of 4).');
        expect(await hearth.app.rooms.memberCount(r.slug)).to.equal(4);
      }
    });
  });

  describe('passcodes', () => {
    it('needs the passcode before join; right, wrong and throttled', async () => {
      await user('keeper');
      const guest = await user('guest');
      const r = await room('keeper', 6, 'open sesame');
      const s = await socket(guest);
      const denied = await s.request({ type: 'join', room: r.slug }, 'joined');
      expect(denied).to.include({ type: 'error', code: ErrorCode.PasscodeRequired });

      const page = await guest.get(`/r/${r.slug}`);
      expect(page.body).to.include('This room needs a passcode');
      const stored = await hearth.app.rooms.get(r.slug);
      expect(stored!.passcodeHash).to.match(/^\$argon2/);

      const token = await guest.csrfToken(`/r/${r.slug}`);
      const wrong = await guest.postForm(`/r/${r.slug}/passcode`, { _csrf: token, passcode: 'wrong' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body).to.include('Wrong passcode.');
      const right = await guest.postForm(`/r/${r.slug}/passcode`, { _csrf: token, passcode: 'open sesame' });
      expect(right.status).to.equal(303);
      const joined = await s.request({ type: 'join', room: r.slug }, 'joined');
      expect(joined.type).to.equal('joined');

      const intruder = await user('intruder');
      const t2 = await intruder.csrfToken(`/r/${r.slug}`);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await intruder.postForm(`/r/${r.slug}/passcode`, { _csrf: t2, passcode: `guess ${i}` })).status);
      expect(statuses.slice(0, 4)).to.deep.equal([401, 401, 401, 401]);
      expect(statuses[5]).to.equal(429);
      // Throttled even with the right passcode.
      expect((await intruder.postForm(`/r/${r.slug}/passcode`, { _csrf: t2, passcode: 'open sesame' })).status).to.equal(429);
    });
  });

  describe('presence', () => {
    it('shows a tab in Online now and the room, and removes it at once on a clean close', async () => {
      const watcher = await socket(await user('watch'));
      const c = await user('vis');
      const r = await room('vis');
      const s = await TestSocket.open(c, ca);
      await watcher.next('lobby', (m) => m.online.some((o) => o.displayName === 'VIS'));
      await s.request({ type: 'join', room: r.slug }, 'joined');
      const live = await watcher.next('lobby', (m) => m.rooms.some((x) => x.slug === r.slug));
      expect(live.rooms.find((x) => x.slug === r.slug)).to.deep.include({ count: 1, capacity: 6, name: r.name });
      expect(live.online.find((o) => o.displayName === 'VIS')?.where).to.deep.equal({ kind: 'room', slug: r.slug, name: r.name });
      // A room-mate learns it "left" (the clean-close path), not "timeout" (a lapsed heartbeat).
      const mate = await socket(await user('vismate'));
      await mate.request({ type: 'join', room: r.slug }, 'joined');
      const left = mate.next('peer-left', (m) => m.peerId === s.peerId);
      s.close();
      expect((await left).reason).to.equal('left');
      mate.send({ type: 'leave' });
      await watcher.next('lobby', (m) => !m.online.some((o) => o.displayName === 'VIS') && !m.rooms.some((x) => x.slug === r.slug));
    });

    it('counts a user with two tabs once in Online now but as two peers in a room', async () => {
      const c = await user('twotabs');
      const r = await room('twotabs');
      const [t1, t2] = [await socket(c), await socket(c)];
      await t1.request({ type: 'join', room: r.slug }, 'joined');
      const j2 = await t2.request({ type: 'join', room: r.slug }, 'joined');
      expect(j2.type === 'joined' && j2.peers.length).to.equal(1);
      const lobby = await t1.next('lobby', (m) => (m.rooms.find((x) => x.slug === r.slug)?.count ?? 0) === 2);
      expect(lobby.online.filter((o) => o.displayName === 'TWOTABS')).to.have.length(1);
    });

    it('tells the room "left" on a clean close and "dropped" when a connection breaks', async () => {
      const w = await socket(await user('reasonwatch'));
      const r = await room('reasonwatch');
      await w.request({ type: 'join', room: r.slug }, 'joined');
      const c = await user('reasoner');
      for (const [code, reason] of [[1001, 'left'], [4000, 'dropped']] as const) {
        const s = await TestSocket.open(c, ca);
        await s.request({ type: 'join', room: r.slug }, 'joined');
        s.close(code);
        const left = await w.next('peer-left', (m) => m.peerId === s.peerId);
        expect(left.reason, `close code ${code}`).to.equal(reason);
      }
    });

    it('lets a tab that reconnects keep its peer id with its resume token, and nobody else', async () => {
      const w = await socket(await user('resumewatch'));
      const r = await room('resumewatch');
      await w.request({ type: 'join', room: r.slug }, 'joined');
      const c = await user('resumer');
      const first = await TestSocket.open(c, ca);
      await first.request({ type: 'join', room: r.slug }, 'joined');
      // The old socket is still open (its loss not yet noticed): the new one retires it.
      const left = w.next('peer-left', (m) => m.peerId === first.peerId);
      const second = await TestSocket.open(c, ca, { resume: first.resume });
      sockets.push(second);
      expect(second.peerId).to.equal(first.peerId);
      expect((await first.waitClosed()).code).to.equal(1006);
      expect((await left).reason).to.equal('dropped');
      const joined = w.next('peer-joined', (m) => m.peer.peerId === first.peerId);
      expect((await second.request({ type: 'join', room: r.slug }, 'joined')).type).to.equal('joined');
      await joined;
      // It is a live peer: signals reach it under that id.
      w.send({ type: 'signal', to: first.peerId, payload: { kind: 'app', app: 'ping', data: 1 } });
      expect((await second.next('signal')).from).to.equal(w.peerId);
      // Another user's token, a forged one, or garbage: a fresh peer id.
      const other = await user('notresumer');
      for (const resume of [second.resume, `${second.peerId}.AAAA`, 'x'.repeat(500)]) {
        const s = await TestSocket.open(other, ca, { resume });
        expect(s.peerId).to.not.equal(second.peerId);
        s.close();
      }
      expect(second.closed).to.equal(null);
    });

    it('keeps the seat of a tab that resumed on another instance when its old socket is found dead', async () => {
      const other = await startTestHearth({}, { flush: false });
      try {
        const w = await socket(await user('hopwatch'));
        const r = await room('hopwatch');
        await w.request({ type: 'join', room: r.slug }, 'joined');
        const c = await user('hopper');
        const first = await TestSocket.open(c, ca);
        await first.request({ type: 'join', room: r.slug }, 'joined');
        // The first socket goes silent (its network broke); the tab comes back through the other instance.
        (first.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
        first.ws.pong = () => undefined;
        const second = await TestSocket.open(c, ca, { resume: first.resume, server: other.origin });
        sockets.push(second);
        expect(second.peerId).to.equal(first.peerId);
        const joined = w.next('peer-joined', (m) => m.peer.peerId === first.peerId);
        expect((await second.request({ type: 'join', room: r.slug }, 'joined')).type).to.equal('joined');
        await joined;
        const left = w.next('peer-left', (m) => m.peerId === first.peerId, 10_000).then(() => true, () => false);
        // This instance's heartbeat (500 ms here) terminates the silent socket and cleans up after it.
        while (hearth.app.hub.local(first.peerId)) await sleep(100);
        expect(await Promise.race([left, sleep(1_000).then(() => false)]), 'nobody is told the resumed tab left').to.equal(false);
        expect((await hearth.app.rooms.members(r.slug)).map((m) => m.peerId)).to.include(second.peerId);
        (first.ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
      } finally {
        await other.close();
      }
    });

    it('drops a connection that dies without a close within the heartbeat window', async () => {
      const watcher = await socket(await user('watch2'));
      const c = await user('ghost');
      const r = await room('ghost');
      const s = await TestSocket.open(c, ca);
      await s.request({ type: 'join', room: r.slug }, 'joined');
      const w2 = await socket(await user('roommate'));
      await w2.request({ type: 'join', room: r.slug }, 'joined');
      // Stop answering pings and never send a close frame: the TCP connection just goes silent.
      (s.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
      s.ws.pong = () => undefined;
      (s.ws as unknown as { _receiver: { removeAllListeners(): void } })._receiver.removeAllListeners();
      const left = await w2.next('peer-left', (m) => m.peerId === s.peerId, 5_000);
      expect(left.reason).to.be.oneOf(['dropped', 'timeout']);
      await watcher.next('lobby', (m) => !m.online.some((o) => o.displayName === 'GHOST'), 5_000);
      (s.ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
    });
  });
});
