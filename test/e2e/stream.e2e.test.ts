// The stream service worker in Chromium: the Range answers it gives for /files/stream/<sha256> from
// the bytes the controlling page hands it, and (two people) a shared video played without downloading it.
import { expect } from 'chai';
import type { Page } from 'puppeteer';
import { newUser, registerInBrowser } from '../helpers/browser.js';
import { useHearthAndBrowser } from '../helpers/hearth.js';

const SHA = 'ab'.repeat(32);
const SIZE = 10 * 1024 * 1024 + 123;
const MiB = 1024 * 1024;

/** byteAt — the synthetic file's byte at `i` (the page and the test compute it alike). */
const byteAt = (i: number) => (i * 7 + (i >> 12)) & 0xff;

/**
 * servePage — registers the worker from the page (as stream-bridge.ts does) and answers its asks for
 * SHA with synthetic bytes, counting what it was asked for (window.__asked).
 */
async function servePage(page: Page): Promise<void> {
  await page.evaluate(async (sha: string, size: number) => {
    const w = window as unknown as { __asked: [number, number][] };
    w.__asked = [];
    const c = navigator.serviceWorker;
    c.addEventListener('message', (e: MessageEvent) => {
      const ask = (e.data as { hearthStream?: { op: string; sha256: string } }).hearthStream;
      const port = e.ports[0];
      if (!ask || !port) return;
      if (ask.sha256 !== sha) {
        port.postMessage({ op: 'refused' });
        return;
      }
      port.onmessage = (m: MessageEvent<{ op: string; start: number; end: number }>) => {
        if (m.data.op !== 'read') return;
        const { start, end } = m.data;
        w.__asked.push([start, end]);
        const bytes = new Uint8Array(end - start);
        for (let i = start; i < end; i++) bytes[i - start] = (i * 7 + (i >> 12)) & 0xff;
        port.postMessage({ op: 'bytes', bytes: bytes.buffer }, [bytes.buffer]);
      };
      port.postMessage({ op: 'opened', size });
    });
    c.startMessages();
    await c.register('/files/sw.js', { scope: '/files', updateViaCache: 'none' });
    await c.ready;
    if (!c.controller) await new Promise((r) => c.addEventListener('controllerchange', r, { once: true }));
  }, SHA, SIZE);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  length: number;
  first: number[];
  last: number[];
}

/** get — fetches `path` from the page with an optional Range, as the page's own request. */
function get(page: Page, path: string, range?: string): Promise<Answer> {
  return page.evaluate(async (p: string, r: string | null) => {
    const res = await fetch(p, { headers: r ? { Range: r } : {} });
    const buf = new Uint8Array(await res.arrayBuffer());
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => { headers[k] = v; });
    return { status: res.status, headers, length: buf.length, first: [...buf.slice(0, 4)], last: [...buf.slice(-4)] };
  }, path, range ?? null);
}

const expected = (start: number, end: number) => ({
  first: [0, 1, 2, 3].map((k) => byteAt(start + k)),
  last: [4, 3, 2, 1].map((k) => byteAt(end - k)),
});

describe('the stream service worker', function () {
  this.timeout(90_000);
  const env = useHearthAndBrowser();

  it('is served at a fixed URL with a scope beyond its folder, as JavaScript, not cached', async () => {
    const user = await newUser(env.browser, 'ana');
    await user.page.goto(`${env.hearth.origin}/trust`);
    const head = await user.page.evaluate(async () => {
      const r = await fetch('/files/sw.js');
      return { status: r.status, type: r.headers.get('content-type'), allowed: r.headers.get('service-worker-allowed'), cache: r.headers.get('cache-control'), body: await r.text() };
    });
    expect(head.status).to.equal(200);
    expect(head.type).to.match(/^text\/javascript/);
    expect(head.allowed).to.equal('/');
    expect(head.cache).to.equal('no-cache');
    expect(head.body).to.include('hearthStream');
    expect(head.body).to.match(/sourceMappingURL=\/build\/workers\/stream-sw-\w+\.js\.map/);
    await user.ctx.close();
  });

  it('answers Range requests from the page that plays the file: 206, bounded, exact bytes; refuses others', async () => {
    const user = await newUser(env.browser, 'ben');
    await registerInBrowser(user, env.hearth.origin, 'ben', 'Ben');
    const { page } = user;
    await page.goto(`${env.hearth.origin}/files`);
    await servePage(page);
    const url = `/files/stream/${SHA}?type=video%2Fmp4`;

    // A closed range inside one piece and across pieces.
    let a = await get(page, url, 'bytes=100-199');
    expect(a.status).to.equal(206);
    expect(a.headers['content-range']).to.equal(`bytes 100-199/${SIZE}`);
    expect(a.headers['content-length']).to.equal('100');
    expect(a.headers['accept-ranges']).to.equal('bytes');
    expect(a.headers['content-type']).to.equal('video/mp4');
    expect(a).to.include({ length: 100 }).and.deep.include(expected(100, 200));

    a = await get(page, url, `bytes=${MiB - 10}-${MiB + 9}`);
    expect(a.headers['content-range']).to.equal(`bytes ${MiB - 10}-${MiB + 9}/${SIZE}`);
    expect(a).to.include({ length: 20 }).and.deep.include(expected(MiB - 10, MiB + 10));

    // Open-ended: a bounded answer (4 MiB), which says where it ends.
    a = await get(page, url, 'bytes=0-');
    expect(a.status).to.equal(206);
    expect(a.headers['content-range']).to.equal(`bytes 0-${4 * MiB - 1}/${SIZE}`);
    expect(a).to.include({ length: 4 * MiB }).and.deep.include(expected(0, 4 * MiB));
    a = await get(page, url, `bytes=${SIZE - 1000}-`);
    expect(a.headers['content-range']).to.equal(`bytes ${SIZE - 1000}-${SIZE - 1}/${SIZE}`);
    expect(a).to.include({ length: 1000 }).and.deep.include(expected(SIZE - 1000, SIZE));
    // The last bytes (a suffix range), and a range past the end.
    a = await get(page, url, 'bytes=-10');
    expect(a.headers['content-range']).to.equal(`bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    expect(a).to.deep.include(expected(SIZE - 10, SIZE));
    a = await get(page, url, `bytes=${SIZE}-`);
    expect(a.status, JSON.stringify(a)).to.equal(416);
    expect(a.headers['content-range']).to.equal(`bytes */${SIZE}`);

    // The page was asked only for what the answers carried, in pieces on 1 MiB boundaries.
    const asked = await page.evaluate(() => (window as unknown as { __asked: [number, number][] }).__asked);
    for (const [s, e] of asked) expect(Math.floor(s / MiB), `${s}-${e} within one piece`).to.equal(Math.floor((e - 1) / MiB));
    const total = asked.reduce((n, [s, e]) => n + e - s, 0);
    expect(total).to.equal(100 + 20 + 4 * MiB + 1000 + 10);

    // A type that is not audio or video is answered as bytes; a file the page does not play is not answered.
    a = await get(page, `/files/stream/${SHA}?type=text%2Fhtml`, 'bytes=0-9');
    expect(a.headers['content-type']).to.equal('application/octet-stream');
    expect(a.headers['x-content-type-options']).to.equal('nosniff');
    a = await get(page, `/files/stream/${'cd'.repeat(32)}?type=video%2Fmp4`, 'bytes=0-9');
    expect(a.status).to.equal(404);
    // Other URLs pass through to the server.
    a = await get(page, '/files/stream/nothex', 'bytes=0-9');
    expect(a.status).to.equal(404);
    a = await get(page, '/healthz');
    expect(a.status).to.equal(200);
    expect(user.errors.filter((e) => !/404|416/.test(e))).to.deep.equal([]);
    await user.ctx.close();
  });
});
