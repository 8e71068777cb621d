import { expect } from 'chai';
import { ErrorCode } from '../../src/shared/protocol.js';
import { startTestHearth } from '../helpers/hearth.js';
import { useWorld } from '../helpers/world.js';
import type { TestSocket } from '../helpers/ws-client.js';

describe('ringing a named person (real ws + Redis state machine)', function () {
  this.timeout(30_000);
  const world = useWorld(() => startTestHearth({ RING_TIMEOUT_SECONDS: '2' }, { heartbeatMs: 500 }));
  const person = (prefix: string) => world.person(prefix);

  async function ring(caller: TestSocket, calleeId: string, room?: string) {
    const reply = await caller.request({ type: 'ring', userId: calleeId, ...(room ? { room } : {}) }, 'ring-update');
    if (reply.type !== 'ring-update') throw new Error(`ring refused: ${JSON.stringify(reply)}`);
    return reply;
  }

  it('accept: both sides learn the same private room, which only they may enter', async () => {
    const [ada, bob, eve] = [await person('ada'), await person('bob'), await person('eve')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const incoming = b.next('ring-incoming');
    const ringing = await ring(a, bob.id);
    expect(ringing.state).to.equal('ringing');
    const inc = await incoming;
    expect(inc.from).to.deep.equal({ userId: ada.id, displayName: ada.name });
    expect(inc.callId).to.equal(ringing.callId);

    const callerSees = a.next('ring-update', (m) => m.state === 'accepted');
    const calleeSees = await b.request({ type: 'ring-answer', callId: inc.callId, accept: true }, 'ring-update');
    const forCaller = await callerSees;
    expect(calleeSees).to.include({ state: 'accepted' });
    const slug = (calleeSees as { room: string }).room;
    expect(forCaller.room).to.equal(slug);

    expect((await a.request({ type: 'join', room: slug }, 'joined')).type).to.equal('joined');
    expect((await b.request({ type: 'join', room: slug }, 'joined')).type).to.equal('joined');
    const e = await eve.tab();
    expect(await e.request({ type: 'join', room: slug }, 'joined')).to.include({ type: 'error', code: ErrorCode.NotInvited });
    expect((await eve.http.get(`/r/${slug}`)).status).to.equal(403);
    expect((await bob.http.get(`/r/${slug}`)).status).to.equal(200);
    // Private calls are not listed in the lobby.
    const lobby = await e.next('lobby');
    expect(lobby.rooms.some((r) => r.slug === slug)).to.equal(false);
  });

  it('decline: the caller hears "declined" and nothing is missed', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const incoming = b.next('ring-incoming');
    await ring(a, bob.id);
    const declined = a.next('ring-update', (m) => m.state === 'declined');
    b.send({ type: 'ring-answer', callId: (await incoming).callId, accept: false });
    expect((await declined).peer.displayName).to.equal(bob.name);
    expect(await world.hearth.app.calls.missed(bob.id)).to.have.length(0);
  });

  it('no answer within the ring timeout: "no-answer" to both, recorded as missed', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    await ring(a, bob.id);
    const t0 = Date.now();
    const [callerEnd, calleeEnd] = await Promise.all([a.next('ring-update', (m) => m.state === 'no-answer'), b.next('ring-update', (m) => m.state === 'no-answer')]);
    expect(Date.now() - t0).to.be.within(1_500, 4_000);
    expect(callerEnd.callId).to.equal(calleeEnd.callId);
    const missed = await world.hearth.app.calls.missed(bob.id);
    expect(missed.map((m) => m.from.displayName)).to.deep.equal([ada.name]);
  });

  it('cancel: the callee stops ringing and sees a missed call', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const ringing = await ring(a, bob.id);
    const stop = b.next('ring-update', (m) => m.state === 'cancelled');
    const missed = b.next('missed-calls');
    a.send({ type: 'ring-cancel', callId: ringing.callId });
    expect((await stop).callId).to.equal(ringing.callId);
    expect((await missed).calls[0]?.from.userId).to.equal(ada.id);
  });

  it('busy: a callee in a call is not rung, the caller hears "busy", the callee gets a notice', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const r = await world.hearth.app.rooms.create({ name: 'Meeting', ownerId: bob.id, capacity: 4, passcodeHash: null });
    await b.request({ type: 'join', room: r.slug }, 'joined');
    const notice = b.next('ring-notice');
    const reply = await ring(a, bob.id);
    expect(reply.state).to.equal('busy');
    expect((await notice).from.displayName).to.equal(ada.name);
    expect(b.received.some((m) => m.type === 'ring-incoming')).to.equal(false);
  });

  it('the callee going offline while ringing: "offline" for the caller', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const incoming = b.next('ring-incoming');
    await ring(a, bob.id);
    await incoming;
    const gone = a.next('ring-update', (m) => m.state === 'offline');
    b.close();
    expect((await gone).peer.userId).to.equal(bob.id);
  });

  it('two tabs of the callee both ring; the first answer wins and the other stops at once', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const a = await ada.tab();
    const [b1, b2] = [await bob.tab(), await bob.tab()];
    const both = Promise.all([b1.next('ring-incoming'), b2.next('ring-incoming')]);
    await ring(a, bob.id);
    const [i1] = await both;
    const otherStops = b2.next('ring-update', (m) => m.state === 'answered-elsewhere');
    const first = await b1.request({ type: 'ring-answer', callId: i1.callId, accept: true }, 'ring-update');
    expect(first).to.include({ state: 'accepted' });
    await otherStops;
    const second = await b2.request({ type: 'ring-answer', callId: i1.callId, accept: true }, 'ring-update');
    expect(second).to.include({ type: 'error', code: ErrorCode.CallNotFound, message: 'This call has already ended.' });
  });

  it('rings a person into an existing room, past its passcode', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const hash = await import('argon2').then((m) => m.default.hash('secret'));
    const r = await world.hearth.app.rooms.create({ name: 'Locked', ownerId: ada.id, capacity: 4, passcodeHash: hash });
    const [a, b] = [await ada.tab(), await bob.tab()];
    expect(await b.request({ type: 'join', room: r.slug }, 'joined')).to.include({ code: ErrorCode.PasscodeRequired });
    await a.request({ type: 'join', room: r.slug }, 'joined');
    const incoming = b.next('ring-incoming');
    await ring(a, bob.id, r.slug);
    const inc = await incoming;
    expect(inc.room?.name).to.equal('Locked');
    const accepted = await b.request({ type: 'ring-answer', callId: inc.callId, accept: true }, 'ring-update');
    expect(accepted).to.include({ state: 'accepted', room: r.slug });
    expect((await b.request({ type: 'join', room: r.slug }, 'joined')).type).to.equal('joined');
    // Only members may ring people into a room.
    const c = await (await person('cid')).tab();
    expect(await c.request({ type: 'ring', userId: bob.id, room: r.slug }, 'ring-update')).to.include({ code: ErrorCode.NotInRoom });
  });

  it('lists missed calls in the lobby until dismissed', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const a = await ada.tab();
    // Bob is offline: the ring is recorded for later.
    expect((await ring(a, bob.id)).state).to.equal('offline');
    const page = await bob.http.get('/');
    expect(page.body).to.include('Missed calls');
    expect(page.body).to.include(ada.name);
    const [entry] = await world.hearth.app.calls.missed(bob.id);
    const b = await bob.tab();
    const update = b.next('missed-calls');
    b.send({ type: 'dismiss-missed', id: entry!.id });
    expect((await update).calls).to.deep.equal([]);
    expect(await world.hearth.app.calls.missed(bob.id)).to.deep.equal([]);
  });

  it('Do not disturb declines automatically as "not taking calls" and records a missed call', async () => {
    const [ada, bob] = [await person('ada'), await person('bob')];
    const [a, b] = [await ada.tab(), await bob.tab()];
    const b2 = await bob.tab();
    const echoed = b2.next('dnd');
    b.send({ type: 'dnd', on: true });
    expect((await echoed).on).to.equal(true);
    expect((await ring(a, bob.id)).state).to.equal('dnd');
    expect(b.received.some((m) => m.type === 'ring-incoming')).to.equal(false);
    expect((await world.hearth.app.calls.missed(bob.id))[0]?.from.userId).to.equal(ada.id);
    b.send({ type: 'dnd', on: false });
    await b.next('dnd');
    expect((await ring(a, bob.id)).state).to.equal('ringing');
  });

  it('refuses to accept or cancel a call that is not yours', async () => {
    const [ada, bob, mallory] = [await person('ada'), await person('bob'), await person('mal')];
    const [a, b, m] = [await ada.tab(), await bob.tab(), await mallory.tab()];
    const incoming = b.next('ring-incoming');
    const ringing = await ring(a, bob.id);
    await incoming;
    expect(await m.request({ type: 'ring-answer', callId: ringing.callId, accept: true }, 'ring-update')).to.include({ type: 'error', code: ErrorCode.CallNotFound });
    expect(await m.request({ type: 'ring-cancel', callId: ringing.callId }, 'ring-update')).to.include({ type: 'error', code: ErrorCode.CallNotFound });
    expect(await b.request({ type: 'ring-cancel', callId: ringing.callId }, 'ring-update')).to.include({ type: 'error', code: ErrorCode.CallNotFound });
    expect((await world.hearth.app.calls.get(ringing.callId))?.state).to.equal('ringing');
    expect(await a.request({ type: 'ring', userId: ada.id }, 'ring-update')).to.include({ code: ErrorCode.UserNotFound });
  });

  it('rate-limits rings per caller', async () => {
    const ada = await person('ada');
    const a = await ada.tab();
    const targets = await Promise.all(Array.from({ length: 11 }, () => person('t')));
    const replies = [];
    for (const t of targets) replies.push(await a.request({ type: 'ring', userId: t.id }, 'ring-update'));
    expect(replies.slice(0, 10).every((r) => r.type === 'ring-update')).to.equal(true);
    expect(replies[10]).to.include({ type: 'error', code: ErrorCode.RateLimited });
  });
});
