import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ErrorCode, type ServerMessageOf } from '../../src/shared/protocol.js';
import { folderIdText, SHARE_LIMITS, type ShareItem, type SharedFile } from '../../src/shared/shares.js';
import type { HttpClient } from '../helpers/http-client.js';
import { startTestHearth } from '../helpers/hearth.js';
import { until, useWorld, type Person } from '../helpers/world.js';
import { TestSocket } from '../helpers/ws-client.js';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
let n = 0;

/** file — one SharedFile with made-up (but well-formed) hashes, unique per call. */
function file(path: string, size = 1234, type = 'text/plain'): SharedFile {
  const content = sha(`${path} ${++n}`);
  return { path, size, type, sha256: content, manifest: sha(`manifest ${content}`) };
}

function fileItem(name: string, size = 1234, type = 'text/plain'): ShareItem {
  const f = file(name, size, type);
  return { id: f.sha256, kind: 'file', name, files: [f], dirs: [] };
}

function folderItem(name: string, files: SharedFile[], dirs: string[] = []): ShareItem {
  return { id: sha(folderIdText({ files, dirs })), kind: 'folder', name, files, dirs };
}

type Files = ServerMessageOf<'files'>;

describe('shared files (real ws + Redis)', function () {
  this.timeout(30_000);
  const world = useWorld(() => startTestHearth({}, { heartbeatMs: 500 }));
  const person = (prefix: string) => world.person(prefix);
  const store = () => world.hearth.app.services.shares;
  const viewOf = (userId: string) => world.hearth.app.services.files.viewOf(userId, null);

  let refs = 0;
  /** share — sends `share` and returns its reply (`shared` or `error`), matched by ref (several may be in flight). */
  function share(tab: TestSocket, item: unknown, room: string | null = null) {
    const ref = `s${++refs}`;
    const reply = Promise.race([tab.next('shared', (m) => m.ref === ref), tab.next('error', (m) => m.ref === ref)]);
    tab.send({ type: 'share', item, room, ref } as Record<string, unknown>);
    return reply;
  }
  /** watch — starts watching and returns the first `files`. */
  async function watch(tab: TestSocket): Promise<Files> {
    const reply = await tab.request({ type: 'files-watch', ref: 'w' }, 'files');
    if (reply.type !== 'files') throw new Error(`files-watch refused: ${JSON.stringify(reply)}`);
    return reply;
  }
  /** seen — the next `files` on `tab` for which `pred` holds (or the last one, if it already does). */
  async function seen(tab: TestSocket, pred: (m: Files) => boolean, timeoutMs = 5_000): Promise<Files> {
    const last = tab.received.filter((m): m is Files => m.type === 'files').at(-1);
    if (last && pred(last)) return last;
    return tab.next('files', pred, timeoutMs);
  }
  const has = (id: string) => (m: Files) => m.items.some((i) => i.id === id);
  const lacks = (id: string) => (m: Files) => !m.items.some((i) => i.id === id);
  const recorded = async (p: Person) => ((await store().records([p.id])).get(p.id) ?? []).map((r) => r.item.id);

  async function createRoom(c: HttpClient, name: string): Promise<string> {
    const r = await c.postForm('/rooms', { _csrf: await c.csrfToken('/'), name, capacity: '6', passcode: '' });
    expect(r.status, `create ${name}`).to.equal(303);
    return String(r.headers.location).slice('/r/'.length);
  }

  describe('hostile announcements are refused before anything is stored', () => {
    it('an id that does not match the content: a file, and a folder', async () => {
      const ana = await person('ana');
      const a = await ana.tab();
      const item = fileItem('minutes.pdf');
      const forged = { ...item, id: sha('something else') };
      expect(await share(a, forged)).to.include({ type: 'error', code: ErrorCode.BadMessage, message: 'The item id does not match its content.' });
      const folder = folderItem('Holiday', [file('a.txt'), file('photos/b.jpg', 10, 'image/jpeg')], ['empty']);
      expect(await share(a, { ...folder, id: sha('not the listing') })).to.include({ type: 'error', code: ErrorCode.BadMessage, message: 'The item id does not match its content.' });
      // The same listing with one file's hash changed is another folder.
      const tampered = { ...folder, files: [folder.files[0]!, { ...folder.files[1]!, sha256: sha('other bytes') }] };
      expect(await share(a, tampered)).to.include({ type: 'error', code: ErrorCode.BadMessage });
      // A file item whose path is not its name, or with more than one file.
      expect(await share(a, { ...item, files: [{ ...item.files[0]!, path: 'other.pdf' }] })).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, { ...item, files: [item.files[0]!, file('second.pdf')] })).to.include({ code: ErrorCode.BadMessage });
      expect(await recorded(ana)).to.deep.equal([]);
    });

    it('names and paths with separators, "..", backslashes, bidi overrides, control or invisible characters', async () => {
      const ana = await person('ana');
      const a = await ana.tab();
      const badNames = ['../etc', '..', '.', 'a/b', 'a\\b', 'report\u202Efdp.exe', 'bell\u0007', 'new\nline', 'Ad\u200Bmin', '', '   ', 'x'.repeat(256)];
      for (const name of badNames) {
        const reply = await share(a, fileItem(name));
        expect(reply, JSON.stringify(name)).to.include({ type: 'error', code: ErrorCode.BadMessage });
      }
      const badPaths = ['../up.txt', 'a/../../b.txt', '/abs.txt', 'a//b.txt', 'a/./b.txt', 'dir\\file.txt', 'ok/\u202Egnp.exe', 'tab\there.txt', 'trailing/', `${'d/'.repeat(SHARE_LIMITS.depth)}f.txt`];
      for (const path of badPaths) {
        const reply = await share(a, folderItem('Folder', [file(path)]));
        expect(reply, JSON.stringify(path)).to.include({ type: 'error', code: ErrorCode.BadMessage });
        const asDir = await share(a, folderItem('Folder', [file('ok.txt')], [path]));
        expect(asDir, `dir ${JSON.stringify(path)}`).to.include({ type: 'error', code: ErrorCode.BadMessage });
      }
      // Duplicate paths, and a file that is also a folder.
      expect(await share(a, folderItem('Dup', [file('a.txt'), file('a.txt')]))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, folderItem('Both', [file('a'), file('a/b.txt')]))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, folderItem('DirFile', [file('a.txt')], ['a.txt']))).to.include({ code: ErrorCode.BadMessage });
      // A type that is not a MIME type.
      expect(await share(a, fileItem('x.txt', 1, 'text/html; charset=<script>'))).to.include({ code: ErrorCode.BadMessage });
      expect(await recorded(ana)).to.deep.equal([]);
    });

    it('a huge size, too many files or folders, and fields the schema does not know', async () => {
      const ana = await person('ana');
      const a = await ana.tab();
      expect(await share(a, fileItem('huge.bin', 2 ** 40 + 1))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, fileItem('neg.bin', -1))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, fileItem('frac.bin', 1.5))).to.include({ code: ErrorCode.BadMessage });
      const many = Array.from({ length: SHARE_LIMITS.filesPerFolder + 1 }, (_, i) => file(`f${i}`, 1));
      expect(await share(a, folderItem('Many', many))).to.include({ code: ErrorCode.BadMessage });
      const dirs = Array.from({ length: SHARE_LIMITS.dirsPerFolder + 1 }, (_, i) => `d${i}`);
      expect(await share(a, folderItem('Dirs', [file('x', 1)], dirs))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, folderItem('Empty', []))).to.include({ code: ErrorCode.BadMessage });
      expect(await share(a, { ...fileItem('extra.txt'), holders: ['me'] })).to.include({ code: ErrorCode.BadMessage });
      // The largest allowed file is fine.
      expect(await share(a, fileItem('big.bin', 2 ** 40))).to.include({ type: 'shared' });
      expect(await recorded(ana)).to.have.length(1);
    });

    it('caps items per person (atomically), and sharing an item again is no new item', async () => {
      const ana = await person('ana');
      const [a, a2] = [await ana.tab(), await ana.tab()];
      const items = Array.from({ length: SHARE_LIMITS.itemsPerPerson + 4 }, (_, i) => fileItem(`item-${i}.txt`));
      // Two tabs race for the last places.
      const replies = await Promise.all(items.map((item, i) => share(i % 2 ? a2 : a, item)));
      expect(replies.filter((r) => r.type === 'shared')).to.have.length(SHARE_LIMITS.itemsPerPerson);
      const refused = replies.filter((r) => r.type === 'error');
      expect(refused).to.have.length(4);
      for (const r of refused) expect(r).to.include({ code: ErrorCode.TooManyShares });
      expect(await recorded(ana)).to.have.length(SHARE_LIMITS.itemsPerPerson);
      const kept = items.find((_, i) => replies[i]!.type === 'shared')!;
      expect(await share(a2, kept)).to.include({ type: 'shared', id: kept.id });
    });
  });

  describe('who sees what', () => {
    it('a room item is seen only by tabs in that room, and only a tab in the room may share there', async () => {
      const [ana, bob, cas] = [await person('ana'), await person('bob'), await person('cas')];
      const slug = await createRoom(ana.http, 'Files room');
      const [a, b, c] = [await ana.tab(), await bob.tab(), await cas.tab()];
      const item = fileItem('agenda.txt');
      expect(await share(a, item, slug), 'not in the room yet').to.include({ code: ErrorCode.NotInRoom });
      expect((await a.request({ type: 'join', room: slug }, 'joined')).type).to.equal('joined');
      expect((await b.request({ type: 'join', room: slug }, 'joined')).type).to.equal('joined');
      expect(await share(a, item, null), 'in a room: not to the lobby').to.include({ code: ErrorCode.NotInRoom });
      expect(await share(a, item, 'some-other-room')).to.include({ code: ErrorCode.NotInRoom });
      expect(await share(a, item, slug)).to.include({ type: 'shared', id: item.id });

      const inRoom = await watch(b);
      expect(inRoom.items.map((i) => i.id)).to.deep.equal([item.id]);
      expect(inRoom.items[0]).to.deep.include({ room: slug, name: 'agenda.txt', size: 1234, type: 'text/plain' });
      expect(inRoom.items[0]!.holders).to.deep.equal([{ userId: ana.id, displayName: ana.name, peers: [a.peerId] }]);
      expect((await watch(c)).items.map((i) => i.id), 'a lobby tab').to.not.include(item.id);
      expect((await cas.http.get('/files')).body).to.not.include('agenda.txt');
      // Ana's own list says where it is shared.
      expect((await watch(a)).mine.find((m) => m.id === item.id)).to.deep.include({ room: slug, held: true, name: 'agenda.txt' });

      // Ana leaves the room: nobody there can reach her tab, so nobody sees it.
      expect((await a.request({ type: 'leave' }, 'left')).type).to.equal('left');
      await seen(b, lacks(item.id));
    });

    it('the files push reaches every watcher; items of tabs that closed go within seconds, and Available turns Offline', async () => {
      const [ana, bob, cas] = [await person('ana'), await person('bob'), await person('cas')];
      const [a, b, c] = [await ana.tab(), await bob.tab(), await cas.tab()];
      await Promise.all([watch(b), watch(c), watch(a)]);
      const item = fileItem('Holiday-Photos-2026.zip', 5_000_000, 'application/zip');
      expect(await share(a, item)).to.include({ type: 'shared' });
      const [forBob, forCas] = await Promise.all([seen(b, has(item.id)), seen(c, has(item.id))]);
      expect(forBob.items[0]!.holders.map((h) => h.displayName)).to.deep.equal([ana.name]);
      expect(forCas.items[0]!.sharedAt).to.be.a('number');
      expect((await seen(a, (m) => m.mine.some((s) => s.id === item.id && s.held))).mine).to.have.length(1);

      // Ana opens a second tab and shares the same file there too: one item, one holder, two peers.
      const a2 = await ana.tab();
      expect(await share(a2, item)).to.include({ type: 'shared' });
      const both = await seen(b, (m) => m.items[0]?.holders[0]?.peers.length === 2);
      expect(both.items).to.have.length(1);
      expect(both.items[0]!.holders[0]!.peers).to.have.members([a.peerId, a2.peerId]);

      // Tabs close (one cleanly, one as a dropped connection): gone for the others.
      a.close();
      a2.ws.terminate();
      await Promise.all([seen(b, lacks(item.id)), seen(c, lacks(item.id))]);
      // The record stays: it comes back as Offline, and Available again when a tab holds it.
      const a3 = await ana.tab();
      const offline = await watch(a3);
      expect(offline.mine.map((s) => [s.id, s.held])).to.deep.equal([[item.id, false]]);
      expect(offline.items.map((i) => i.id)).to.not.include(item.id);
      expect(await share(a3, item)).to.include({ type: 'shared' });
      await seen(b, has(item.id));
      await seen(a3, (m) => m.mine[0]?.held === true);
    });

    it('holdings of a tab that is not live are never listed, and a heartbeat puts lost holdings and records back', async () => {
      const [ana, bob] = [await person('ana'), await person('bob')];
      const [a, b] = [await ana.tab(), await bob.tab()];
      await watch(b);
      const item = fileItem('notes.md', 10, 'text/markdown');
      // A tab that vanished with its instance: holdings in Redis, no presence.
      await store().add(ana.id, item, null);
      await store().hold('ghost-peer-0001', ana.id, new Map([[item.id, null]]));
      expect((await viewOf(bob.id)).items.map((i) => i.id)).to.not.include(item.id);

      expect(await share(a, item)).to.include({ type: 'shared' });
      await seen(b, has(item.id));
      // Redis loses them (as after a restart without its data): the tab's heartbeat writes them again.
      await store().forgetUser(ana.id);
      await store().release(a.peerId);
      await until(async () => (await recorded(ana)).includes(item.id), 'the record to come back');
      await until(async () => (await viewOf(bob.id)).items.some((i) => i.id === item.id), 'the holding to come back');
    });
  });

  describe('across server instances', () => {
    it('shares, holders and Stop sharing reach tabs on another instance', async () => {
      const [ana, bob] = [await person('ana'), await person('bob')];
      const second = await startTestHearth({}, { flush: false, heartbeatMs: 500 });
      const there: TestSocket[] = [];
      try {
        const a = await ana.tab();
        const [remoteAna, remoteBob] = [await TestSocket.open(ana.http, world.ca, { server: second.origin }), await TestSocket.open(bob.http, world.ca, { server: second.origin })];
        there.push(remoteAna, remoteBob);
        await watch(remoteBob);
        const item = fileItem('shared-across.iso', 700_000_000, 'application/x-iso9660-image');
        expect(await share(a, item)).to.include({ type: 'shared' });
        await seen(remoteBob, has(item.id));
        expect(await share(remoteAna, item)).to.include({ type: 'shared' });
        const both = await seen(remoteBob, (m) => m.items.find((i) => i.id === item.id)?.holders[0]?.peers.length === 2);
        expect(both.items.find((i) => i.id === item.id)!.holders[0]!.peers).to.have.members([a.peerId, remoteAna.peerId]);

        const told = remoteAna.next('unshared');
        expect(await a.request({ type: 'unshare', id: item.id }, 'unshared')).to.include({ type: 'unshared' });
        expect((await told).id).to.equal(item.id);
        await seen(remoteBob, lacks(item.id));
        // The other instance's tab let it go: its next heartbeat does not bring the item back.
        await new Promise((r) => setTimeout(r, 1_200));
        expect((await viewOf(bob.id)).items.map((i) => i.id)).to.not.include(item.id);
        expect(await recorded(ana)).to.deep.equal([]);
      } finally {
        for (const t of there) t.close();
        await second.close();
      }
    });
  });

  describe('unshare', () => {
    it('stops the item on every tab of the person, for everyone', async () => {
      const [ana, bob] = [await person('ana'), await person('bob')];
      const [a1, a2, b] = [await ana.tab(), await ana.tab(), await bob.tab()];
      await watch(b);
      const item = folderItem('Project', [file('src/main.ts', 100, 'text/plain'), file('README.md', 50, 'text/markdown')], ['assets']);
      expect(await share(a1, item)).to.include({ type: 'shared' });
      expect(await share(a2, item)).to.include({ type: 'shared' });
      const view = await seen(b, has(item.id));
      expect(view.items[0]).to.deep.include({ kind: 'folder', size: 150, type: '', dirs: ['assets'] });

      const toOther = a2.next('unshared');
      expect(await a1.request({ type: 'unshare', id: item.id }, 'unshared')).to.include({ type: 'unshared', id: item.id });
      expect((await toOther).id, 'the other tab lets it go').to.equal(item.id);
      await seen(b, lacks(item.id));
      expect(await recorded(ana)).to.deep.equal([]);

      // Stop and share again at once on the same tab: the new share holds (the stop's news over the bus does not undo it).
      expect(await share(a1, item)).to.include({ type: 'shared' });
      await seen(b, has(item.id));
      a1.send({ type: 'unshare', id: item.id, ref: 'again' });
      expect(await share(a1, item)).to.include({ type: 'shared' });
      await new Promise((r) => setTimeout(r, 1_200)); // a couple of heartbeats
      expect((await viewOf(bob.id)).items.find((i) => i.id === item.id)?.holders[0]?.peers).to.deep.equal([a1.peerId]);
      expect(await recorded(ana)).to.deep.equal([item.id]);

      // Bob cannot stop Ana's share: his unshare touches only his own records.
      expect(await b.request({ type: 'unshare', id: item.id }, 'unshared')).to.include({ type: 'unshared' });
      expect(await recorded(ana)).to.deep.equal([item.id]);
    });
  });

  describe('the Shared files page (no JavaScript)', () => {
    it('anonymous visitors go to the sign-in page; the header links to it on every signed-in page', async () => {
      const anon = world.client();
      const r = await anon.get('/files?q=x');
      expect(r.status).to.equal(303);
      expect(r.headers.location).to.equal(`/login?next=${encodeURIComponent('/files?q=x')}`);
      expect((await anon.postForm(`/files/${sha('x')}/stop`, {})).status).to.be.oneOf([401, 403]);
      const ana = await person('ana');
      for (const path of ['/', '/account', '/files']) {
        expect((await ana.http.get(path)).body, path).to.match(/<a[^>]*href="\/files"[^>]*>[\s\S]*?Shared files/);
      }
    });

    it('lists what online people share, finds an item by part of its name, path or type, and escapes a hostile search', async () => {
      const [ana, bob] = [await person('ana'), await person('bob')];
      const a = await ana.tab();
      const photos = fileItem('Holiday-Photos-2026.zip', 5_000_000, 'application/zip');
      const video = fileItem('talk.mp4', 100_000_000, 'video/mp4');
      const tree = folderItem('Code', [file('src/deep/Needle.ts', 10)]);
      for (const item of [photos, video, tree]) expect(await share(a, item)).to.include({ type: 'shared' });

      const all = await bob.http.get('/files');
      expect(all.status).to.equal(200);
      for (const name of ['Holiday-Photos-2026.zip', 'talk.mp4', 'Code']) expect(all.body).to.include(name);
      expect(all.body).to.include(ana.name);
      expect(all.body).to.include('Search shared files');

      const byName = await bob.http.get('/files?q=PHOTOS');
      expect(byName.body).to.include('Holiday-Photos-2026.zip');
      expect(byName.body).to.not.include('talk.mp4');
      expect((await bob.http.get('/files?q=video%2F')).body).to.include('talk.mp4');
      const byPath = await bob.http.get('/files?q=needle');
      expect(byPath.body).to.include('Code');
      expect(byPath.body).to.not.include('Holiday-Photos');

      const none = await bob.http.get('/files?q=nothing-like-this');
      expect(none.body).to.include('No shared files match “nothing-like-this”.');

      const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
      const page = await bob.http.get(`/files?q=${encodeURIComponent(hostile)}`);
      expect(page.status).to.equal(200);
      expect(page.body).to.not.include('<script>alert(1)');
      expect(page.body).to.not.include('<img src=x');
      expect(page.body).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      const long = await bob.http.get(`/files?q=${'q'.repeat(300)}`);
      expect(long.body).to.include(`value="${'q'.repeat(100)}"`);
      expect(long.body).to.not.include('q'.repeat(101));
      expect((await bob.http.get('/files?q=a&q=b')).status).to.equal(200);

      // Ana's page shows her own shares with Stop sharing; they go Offline (not listed for Bob) when her tab closes.
      const mine = await ana.http.get('/files');
      expect(mine.body).to.include('Your shares');
      expect(mine.body).to.include('Available');
      expect(mine.body).to.include(`action="/files/${photos.id}/stop"`);
      a.close();
      await until(async () => !(await bob.http.get('/files')).body.includes('Holiday-Photos-2026.zip'), 'the item to leave the page');
      expect((await bob.http.get('/files')).body).to.include('Nobody is sharing anything right now.');
      expect((await ana.http.get('/files')).body).to.include('Offline');
    });

    it('Stop sharing: refused without a valid CSRF token, done with one', async () => {
      const [ana, bob] = [await person('ana'), await person('bob')];
      const [a, b] = [await ana.tab(), await bob.tab()];
      await watch(b);
      const item = fileItem('draft.docx', 20_000, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
      expect(await share(a, item)).to.include({ type: 'shared' });
      await seen(b, has(item.id));

      expect((await ana.http.postForm(`/files/${item.id}/stop`, {})).status).to.equal(403);
      expect((await ana.http.postForm(`/files/${item.id}/stop`, { _csrf: 'forged' })).status).to.equal(403);
      expect(await recorded(ana)).to.deep.equal([item.id]);
      // Bob's valid token cannot stop Ana's share.
      const bobToken = await bob.http.csrfToken('/files');
      expect((await bob.http.postForm(`/files/${item.id}/stop`, { _csrf: bobToken })).status).to.equal(303);
      expect(await recorded(ana)).to.deep.equal([item.id]);
      expect((await bob.http.postForm('/files/not-an-id/stop', { _csrf: bobToken })).status).to.equal(404);

      const unshared = a.next('unshared');
      const done = await ana.http.postForm(`/files/${item.id}/stop`, { _csrf: await ana.http.csrfToken('/files') });
      expect(done.status).to.equal(303);
      expect(done.headers.location).to.equal('/files?stopped=1');
      expect((await unshared).id, 'the holding tab hears it').to.equal(item.id);
      await seen(b, lacks(item.id));
      expect(await recorded(ana)).to.deep.equal([]);
      expect((await ana.http.get('/files?stopped=1')).body).to.include('You stopped sharing it.');
    });
  });

  it('Delete account leaves no share key of the person', async () => {
    await person('admin'); // the first account is the admin; it is not the one deleted here
    const zed = await person('zed');
    const z = await zed.tab();
    expect(await share(z, fileItem('zed-notes.txt'))).to.include({ type: 'shared' });
    const r = await zed.http.postForm('/account/delete', { _csrf: await zed.http.csrfToken('/account'), password: 'correct horse battery' });
    expect(r.status).to.equal(303);
    await z.waitClosed();
    const redis = world.hearth.redis;
    const found: string[] = [];
    for await (const keys of redis.scanIterator({ MATCH: '*', COUNT: 1000 })) {
      for (const key of keys) {
        if (!key.startsWith('shares:') && !key.includes(zed.id)) continue;
        if (key.includes(zed.id)) found.push(key);
        else if ((await redis.type(key)) === 'hash' && JSON.stringify(await redis.hGetAll(key)).includes('zed-notes')) found.push(key);
      }
    }
    expect(found).to.deep.equal([]);
  });
});
