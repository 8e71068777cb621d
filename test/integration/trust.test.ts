// The trust page and /ca.crt: the fingerprint openssl sees, a QR code that decodes to Hearth's address, plain HTTP on HTTP_PORT, and no state left behind.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_DIR } from '../../src/server/paths.js';
import { startTestHearth, testTls, type TestHearth } from '../helpers/hearth.js';
import { HttpClient } from '../helpers/http-client.js';
import { freePort, stopChild, tempDir, track } from '../helpers/processes.js';
import { decodeQrSvg, decodeQrTerminal } from '../helpers/qr.js';
import { useWorld } from '../helpers/world.js';

/** opensslFingerprint — what `openssl x509 -noout -fingerprint -sha256` prints after "=", for a file or for PEM on stdin. */
function opensslFingerprint(from: { file: string } | { pem: string }): string {
  const args = ['x509', '-noout', '-fingerprint', '-sha256', ...('file' in from ? ['-in', from.file] : [])];
  const out = execFileSync('openssl', args, { input: 'pem' in from ? from.pem : undefined }).toString().trim();
  const m = /^sha256 Fingerprint=([0-9A-F:]+)$/i.exec(out);
  if (!m) throw new Error(`unexpected openssl output: ${out}`);
  return m[1]!;
}

/** pageFingerprint — the fingerprint as the page's text shows it (the <wbr> break hints are not text). */
function pageFingerprint(html: string): string | null {
  const m = /<code[^>]*id="trust-fingerprint"[^>]*>([\s\S]*?)<\/code>/.exec(html);
  return m ? m[1]!.replace(/<wbr>/g, '') : null;
}

/** pageQr — the trust page's QR code: its accessible name and what it decodes to. */
function pageQr(html: string): { role: string | undefined; label: string | undefined; decoded: string | null } {
  const svg = /<svg class="qr"[\s\S]*?<\/svg>/.exec(html)?.[0];
  if (!svg) throw new Error('no QR code on the page');
  expect(svg, 'no inline style (CSP)').to.not.match(/\sstyle=/i);
  return { role: /role="([^"]*)"/.exec(svg)?.[1], label: /aria-label="([^"]*)"/.exec(svg)?.[1], decoded: decodeQrSvg(svg) };
}

/** namedGet — GET over HTTPS with a Host header of the test's choosing (the certificate is still checked as localhost's). */
function namedGet(origin: string, ca: Buffer, urlPath: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(urlPath, origin), { ca, servername: 'localhost', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${urlPath}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** plainGet — a plain-HTTP GET (Node's http: it lets the test choose the Host header). */
function plainGet(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the trust page (real HTTPS + Redis)', function () {
  this.timeout(45_000);
  const world = useWorld();
  let certsDir: string;
  before(async () => {
    ({ certsDir } = await testTls());
  });

  it('shows the CA fingerprint exactly as openssl prints it for CERTS_DIR/ca.crt and for the /ca.crt it serves', async () => {
    const c = world.client();
    const page = await c.get('/trust');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<h1 class="page-title">Trust this Hearth</h1>');
    const fromFile = opensslFingerprint({ file: path.join(certsDir, 'ca.crt') });
    expect(pageFingerprint(page.body)).to.equal(fromFile);
    const download = await c.get('/ca.crt');
    expect(download.status).to.equal(200);
    expect(download.headers['content-type']).to.match(/^application\/x-x509-ca-cert/);
    expect(opensslFingerprint({ pem: download.body })).to.equal(fromFile);
    expect(new X509Certificate(download.body).fingerprint256).to.equal(fromFile);
    expect(page.body).to.match(/<a class="btn btn--primary" href="\/ca.crt">[\s\S]*?<span>Download certificate<\/span><\/a>/);
  });

  it('has a QR code named "QR code for <address>" that decodes to the address it shows', async () => {
    // Hearth listens on 127.0.0.1 only here: that is its one address.
    const page = await world.client().get('/trust');
    const address = `https://127.0.0.1:${world.hearth.port}/`;
    expect(pageQr(page.body)).to.deep.equal({ role: 'img', label: `QR code for ${address}`, decoded: address });
    expect(page.body).to.include(`<a href="${address}">${address}</a>`);
  });

  it('uses the name the visitor reached Hearth by, unless it is loopback; a malformed Host changes nothing', async () => {
    const { origin, port } = world.hearth;
    const named = await namedGet(origin, world.ca, '/trust', `hearth-box.lan:${port}`);
    expect(pageQr(named).decoded).to.equal(`https://hearth-box.lan:${port}/`);
    const loopback = await namedGet(origin, world.ca, '/trust', `localhost:${port}`);
    expect(pageQr(loopback).decoded).to.equal(`https://127.0.0.1:${port}/`);
    const odd = await namedGet(origin, world.ca, '/trust', 'a"b<c>');
    expect(odd).to.not.include('a"b<c>');
    expect(pageQr(odd).decoded).to.equal(`https://127.0.0.1:${port}/`);
  });

  it('puts the visitor\'s device\'s steps first (from the User-Agent), the others folded below', async () => {
    const c = world.client();
    const android = await c.get('/trust', { 'user-agent': 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' });
    expect(android.body).to.include('<h3 class="trust-device-title">On this device (Android)</h3>');
    const folded = [...android.body.matchAll(/<summary>([^<]+)<\/summary>/g)].map((m) => m[1]);
    expect(folded).to.deep.equal(['iPhone and iPad', 'Windows', 'macOS', 'Linux and Firefox']);
    const unknown = await c.get('/trust', { 'user-agent': 'curl/8.5.0' });
    expect(unknown.body).to.not.include('On this device');
    expect([...unknown.body.matchAll(/<summary>([^<]+)<\/summary>/g)].map((m) => m[1])).to.deep.equal(['Android', 'iPhone and iPad', 'Windows', 'macOS', 'Linux and Firefox']);
  });

  it('is linked from the sign-in page as "First time on this device?"', async () => {
    const login = await world.client().get('/login');
    expect(login.body).to.include('<a href="/trust">First time on this device?</a>');
  });

  it('sets no cookie and adds no key to Redis, for any number of visits', async () => {
    const c = world.client();
    await c.get('/trust');
    const before = await world.hearth.redis.dbSize();
    for (let i = 0; i < 50; i++) {
      for (const p of ['/trust', '/ca.crt']) {
        const r = await c.get(p);
        expect(r.status, p).to.equal(200);
        expect(r.setCookies, `${p} sets a cookie`).to.deep.equal([]);
      }
    }
    expect(c.cookies.size).to.equal(0);
    expect(await world.hearth.redis.dbSize()).to.equal(before);
  });

  describe('the room page\'s Share panel', () => {
    it('holds the room\'s URL in a read-only field and a QR code of it; behind a passcode, and for a private call, there is none', async () => {
      const ana = await world.person('ana');
      const { rooms } = world.hearth.app;
      const open = await rooms.create({ name: 'Book club', ownerId: ana.id, capacity: 6, passcodeHash: null });
      const page = (await ana.http.get(`/r/${open.slug}`)).body;
      const url = `https://127.0.0.1:${world.hearth.port}/r/${open.slug}`;
      expect(page).to.include(`<input class="input" id="share-url" type="text" value="${url}" readonly`);
      const dialog = /<dialog[^>]*id="share-qr-dialog"[\s\S]*?<\/dialog>/.exec(page)?.[0] ?? '';
      expect(pageQr(dialog)).to.deep.equal({ role: 'img', label: `QR code for ${url}`, decoded: url });
      // Reached by a LAN name, the link is for that name.
      const named = await new Promise<string>((resolve, reject) => {
        https.get(new URL(`/r/${open.slug}`, world.hearth.origin), {
          ca: world.ca, servername: 'localhost', headers: { host: `hearth-box.lan:${world.hearth.port}`, cookie: [...ana.http.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
        }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      expect(pageQr(named).decoded).to.equal(`https://hearth-box.lan:${world.hearth.port}/r/${open.slug}`);

      const ben = await world.person('ben');
      const secret = await rooms.create({ name: 'Secret', ownerId: ana.id, capacity: 6, passcodeHash: 'x' });
      expect((await ben.http.get(`/r/${secret.slug}`)).body).to.not.include('share-url');
      const call = await rooms.create({ name: 'Call', ownerId: ana.id, capacity: 6, passcodeHash: null, invitedOnly: true, invited: [ana.id] });
      const callPage = await ana.http.get(`/r/${call.slug}`);
      expect(callPage.status).to.equal(200);
      expect(callPage.body).to.not.include('share-url');
    });
  });

  describe('while Redis is down', () => {
    let down: TestHearth;
    before(async () => {
      down = await startTestHearth({}, { redisUrl: `redis://127.0.0.1:${await freePort()}`, flush: false });
    });
    after(async () => {
      await down?.close();
    });

    it('still answers /trust and /ca.crt (they need neither Redis nor a session), while the sign-in page says 503', async () => {
      const c = new HttpClient(down.origin, world.ca);
      try {
        expect((await c.get('/login')).status).to.equal(503);
        const page = await c.get('/trust');
        expect(page.status).to.equal(200);
        expect(pageFingerprint(page.body)).to.equal(opensslFingerprint({ file: path.join(certsDir, 'ca.crt') }));
        expect((await c.get('/ca.crt')).status).to.equal(200);
      } finally {
        await c.close();
      }
    });
  });

  describe('with a certificate of your own (TLS_CERT)', () => {
    let own: TestHearth;
    before(async () => {
      own = await startTestHearth({ TLS_CERT: path.join(certsDir, 'server.crt'), TLS_KEY: path.join(certsDir, 'server.key') });
    });
    after(async () => {
      await own?.close();
    });

    it('says calmly that there is no local CA, offers no download, and /ca.crt is 404', async () => {
      const c = new HttpClient(own.origin, world.ca);
      try {
        const page = await c.get('/trust');
        expect(page.status).to.equal(200);
        expect(page.body).to.include('This Hearth uses a certificate that whoever runs it supplied');
        expect(page.body).to.not.include('Download certificate');
        expect(pageFingerprint(page.body)).to.equal(null);
        expect(pageQr(page.body).decoded).to.equal(`https://127.0.0.1:${own.port}/`);
        expect((await c.get('/ca.crt')).status).to.equal(404);
      } finally {
        await c.close();
      }
    });
  });

  describe('over plain HTTP on HTTP_PORT', () => {
    let plain: TestHearth;
    let httpPort: number;
    before(async () => {
      httpPort = await freePort();
      plain = await startTestHearth({ HTTP_PORT: String(httpPort) }, { flush: false });
    });
    after(async () => {
      await plain?.close();
    });

    it('serves /trust with the same fingerprint, no cookie, and a QR code of the HTTPS address', async () => {
      const keys = await plain.redis.dbSize();
      const r = await plainGet(httpPort, '/trust', { host: `nas.local:${httpPort}` });
      expect(r.status).to.equal(200);
      expect(r.headers['set-cookie']).to.equal(undefined);
      const html = r.body.toString();
      expect(pageFingerprint(html)).to.equal(opensslFingerprint({ file: path.join(certsDir, 'ca.crt') }));
      expect(html).to.include('This page came over plain HTTP');
      expect(pageQr(html).decoded).to.equal(`https://nas.local:${plain.port}/`);
      // Its stylesheet must come over this same connection: no upgrade-insecure-requests, and it is served.
      const csp = String(r.headers['content-security-policy']);
      expect(csp).to.not.include('upgrade-insecure-requests');
      expect(csp).to.include("script-src 'none'");
      const css = /<link rel="stylesheet" href="([^"]+)">/.exec(html)![1]!;
      const sheet = await plainGet(httpPort, css);
      expect(sheet.status).to.equal(200);
      expect(sheet.headers['content-type']).to.match(/^text\/css/);
      expect(await plain.redis.dbSize()).to.equal(keys);
    });

    it('serves /ca.crt, byte for byte the CA', async () => {
      const r = await plainGet(httpPort, '/ca.crt');
      expect(r.status).to.equal(200);
      expect(r.headers['set-cookie']).to.equal(undefined);
      expect(r.body.equals(world.ca)).to.equal(true);
    });

    it('still redirects everything else to HTTPS', async () => {
      for (const p of ['/', '/login', '/register', '/r/some-room', '/account', '/build/manifest.json', '/trust.html', '/ca.crt.bak', '/healthz']) {
        const r = await plainGet(httpPort, p, { host: 'nas.local' });
        expect(r.status, p).to.equal(308);
        expect(r.headers.location, p).to.equal(`https://nas.local:${plain.port}${p}`);
        expect(r.headers['set-cookie'], p).to.equal(undefined);
      }
      const post = await plainGet(httpPort, '/trust', { host: 'nas.local' }, 'POST');
      expect(post.status).to.equal(308);
    });
  });
});

describe('npm start\'s banner (the built server as a process)', function () {
  this.timeout(45_000);

  it('prints the address, a QR code that decodes to it, and the fingerprint /trust shows', async () => {
    const main = path.join(ROOT_DIR, 'dist', 'server', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does)`);
    const { certsDir, ca } = await testTls();
    const port = await freePort();
    const child = track(spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDir('main'), CERTS_DIR: certsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const client = new HttpClient(`https://127.0.0.1:${port}`, ca);
    try {
      for (const end = Date.now() + 30_000; !/Data: /.test(out); await sleep(50)) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no banner (exit ${child.exitCode}):\n${out}\n${err}`);
      }
      const address = `https://127.0.0.1:${port}/`;
      expect(out).to.include(`Open one of these addresses in a browser on your network:\n  ${address}\n`);
      expect(out).to.include(`On a phone, scan this code to open ${address}:`);
      expect(decodeQrTerminal(out)).to.equal(address);
      const printed = /SHA-256 ([0-9A-F:]+)/.exec(out)?.[1];
      expect(printed).to.equal(opensslFingerprint({ file: path.join(certsDir, 'ca.crt') }));
      expect(pageFingerprint((await client.get('/trust')).body)).to.equal(printed);
    } finally {
      await client.close();
      await stopChild(child);
    }
  });
});
