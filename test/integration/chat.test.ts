import { expect } from 'chai';
import { ErrorCode } from '../../src/shared/protocol.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { TestSocket } from '../helpers/ws-client.js';

describe('room chat (real ws, HTTP form, Redis)', function () {
  this.timeout(20_000);
  let hearth: TestHearth;
  let ca: Buffer;
  let ada: HttpClient;
  let bob: HttpClient;
  let slug: string;

  before(async () => {
    hearth = await startTestHearth();
    ca = (await testTls()).ca;
    ada = new HttpClient(hearth.origin, ca);
    bob = new HttpClient(hearth.origin, ca);
    await ada.register('ada', 'correct horse battery', 'Ada');
    await bob.register('bob', 'correct horse battery', '<script>alert("bob")</script>');
    const owner = await hearth.app.users.findByUsername('ada');
    slug = (await hearth.app.rooms.create({ name: 'Chatty', ownerId: owner!.id, capacity: 4, passcodeHash: null })).slug;
  });
  after(async () => {
    await ada.close();
    await bob.close();
    await hearth.close();
  });

  it('delivers a message to everyone in the room, stores it, and renders it escaped without JS', async () => {
    const [a, b] = [await TestSocket.open(ada, ca), await TestSocket.open(bob, ca)];
    await a.request({ type: 'join', room: slug }, 'joined');
    await b.request({ type: 'join', room: slug }, 'joined');
    const hostile = '<img src=x onerror=alert(1)> & "quotes"';
    const atAda = a.next('chat');
    const atBob = b.next('chat');
    b.send({ type: 'chat', text: hostile });
    const [ma, mb] = await Promise.all([atAda, atBob]);
    expect(ma.message).to.deep.equal(mb.message);
    expect(ma.message).to.include({ text: hostile, displayName: '<script>alert("bob")</script>' });
    const page = await ada.get(`/r/${slug}`);
    expect(page.body).to.include('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(page.body).to.not.include('<img src=x');
    expect(page.body).to.not.include('<script>alert');
    a.close();
    b.close();
  });

  it('accepts the no-JavaScript form and limits how fast one person may post', async () => {
    const _csrf = await ada.csrfToken(`/r/${slug}`);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await ada.postForm(`/r/${slug}/chat`, { _csrf, text: `form message ${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 303)).to.equal(true);
    expect(statuses[10]).to.equal(429);
    const history = await hearth.app.chat.history(slug);
    expect(history.at(-1)?.text).to.equal('form message 9');
    const s = await TestSocket.open(ada, ca);
    await s.request({ type: 'join', room: slug }, 'joined');
    expect(await s.request({ type: 'chat', text: 'one more' }, 'chat')).to.include({ type: 'error', code: ErrorCode.RateLimited });
    s.close();
  });
});
