// mDNS: a real Hearth process answers real multicast DNS queries for <MDNS_NAME>.local, its certificate covers that name, and without multicast it says so once and goes on.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { ROOT_DIR } from '../../src/server/paths.js';
import { ensureCertificates, wantedSubjectAltNames } from '../../src/server/tls/certs.js';
import { childPid, freePort, killPid, running, stopChild, tempDir, track } from '../helpers/processes.js';

const MAIN = path.join(ROOT_DIR, 'src', 'server', 'main.ts');
const UNAVAILABLE = 'is not announced on the LAN (mDNS)';

// A one-shot querier (run as its own process, so that it can run inside a network namespace):
// "multicast" asks from port 5353 as an OS resolver does and takes multicast answers; "legacy" asks
// from a random port and takes only the unicast reply that echoes its query id; "goodbye" listens
// for the name's records with TTL 0. Prints one JSON line: the records for the name.
const QUERIER = `
import dgram from 'node:dgram';
import makeMdns from 'multicast-dns';
const [name, mode, waitMs = '20000'] = process.argv.slice(1);
const legacy = mode === 'legacy';
// The legacy querier's own socket on a random port; queries still go to the group's port 5353.
const socket = legacy ? dgram.createSocket('udp4') : undefined;
if (legacy) await new Promise((r) => socket.bind(0, r));
const m = makeMdns(legacy ? { socket, bind: false, multicast: false } : {});
const id = legacy ? 1 + Math.floor(Math.random() * 60000) : 0;
const done = (records) => { console.log(JSON.stringify(records)); m.destroy(); process.exit(0); };
setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(0); }, Number(waitMs));
m.on('response', (r) => {
  if (legacy && r.id !== id) return;
  const records = [...r.answers, ...(r.additionals ?? [])].filter((a) => a.name === name && (a.type === 'A' || a.type === 'AAAA'));
  if (!records.length) return;
  if (mode === 'goodbye' ? records.every((a) => a.ttl === 0) : records.every((a) => a.ttl > 0)) done(records);
});
m.on('ready', () => {
  console.log(JSON.stringify({ ready: true }));
  if (mode !== 'goodbye') m.query({ id, questions: [{ name, type: 'A' }, { name, type: 'AAAA' }] });
});
`;

// Everything a test starts (namespace anchors, Hearths, port holders), stopped after it, last first.
const live: ChildProcess[] = [];

// Another device on the LAN that answers for the name (as a Hearth or printer of the same name would).
const RIVAL = `
import makeMdns from 'multicast-dns';
const [name, iface] = process.argv.slice(1);
// With an interface (v0 in the avahi namespace), its answers cross the veth pair to the avahi-daemon on v1.
const m = makeMdns(iface ? { interface: iface, bind: '0.0.0.0' } : {});
m.on('query', (q) => {
  if (q.questions.some((x) => x.name.toLowerCase() === name)) m.respond({ answers: [{ name, type: 'A', ttl: 120, flush: true, data: '10.77.0.99' }] });
});
m.on('ready', () => console.log('ready'));
`;

interface Running {
  child: ChildProcess;
  out: () => string;
}

function start(child: ChildProcess): ChildProcess {
  live.push(track(child));
  return child;
}

// Anchors of namespaces that also have their own mounts (a private /run for dbus and avahi).
const withMounts = new WeakSet<ChildProcess>();

/**
 * inNamespace — a fresh network namespace (and mount namespace, with `mounts`) held open by a
 * tracked shell; `setup` runs in it first. The shell's SIGTERM trap runs `teardown`.
 */
/** LOOPBACK_MULTICAST — a namespace's set-up where loopback carries the mDNS group (the only multicast there is). */
const LOOPBACK_MULTICAST = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

async function inNamespace(setup: string, opts: { mounts?: boolean; teardown?: string } = {}): Promise<ChildProcess> {
  const flags = opts.mounts ? ['-n', '-m', '--propagation', 'private'] : ['-n'];
  const probe = spawnSync('unshare', [...flags, 'true']);
  if (probe.status !== 0) {
    throw new Error(`this mDNS test needs a network namespace (unshare ${flags.join(' ')}, as root) and could not make one: ${`${probe.stderr}`.trim() || probe.error?.message}`);
  }
  const anchor = start(spawn('unshare', [...flags, 'sh', '-c', `set -e; ${setup}; trap '${opts.teardown ?? 'true'}; kill $S 2>/dev/null; exit 0' TERM; echo ready; sleep 600 & S=$!; wait $S`], { stdio: ['ignore', 'pipe', 'inherit'] }));
  if (opts.mounts) withMounts.add(anchor);
  const [line] = await once(anchor.stdout!, 'data') as [Buffer];
  if (!line.toString().includes('ready')) throw new Error(`the network namespace setup failed: ${setup}`);
  return anchor;
}

/** within — argv that runs `argv` inside the namespace of `anchor` (or as is, on the machine's own network). */
function within(anchor: ChildProcess | null, argv: string[]): [string, string[]] {
  if (!anchor) return [argv[0]!, argv.slice(1)];
  return ['nsenter', ['-t', String(anchor.pid), '-n', ...(withMounts.has(anchor) ? ['-m', `--wd=${ROOT_DIR}`] : []), '--', ...argv]];
}

/** startHearth — `npm run dev` with `env`, in the namespace of `anchor` when given; resolves at the banner. */
async function startHearth(anchor: ChildProcess | null, env: Record<string, string>): Promise<Running> {
  const [cmd, args] = within(anchor, [process.execPath, '--import', 'tsx', MAIN]);
  const child = start(spawn(cmd, args, {
    cwd: ROOT_DIR,
    // TURN off: this test is about the name, and a relay server per start only adds load.
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', HOST: '::', TURN: 'off', DATA_DIR: tempDir('mdns-data'), CERTS_DIR: tempDir('mdns-certs'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 45_000;
  while (!out.includes('Hearth is running')) {
    if (child.exitCode !== null) throw new Error(`Hearth exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`Hearth did not start in 45 s:\n${out}`);
    await sleep(100);
  }
  return { child, out: () => out };
}

/** query — runs the querier (in the namespace of `anchor`, if given); resolves with its records once it is listening and has its answer. */
function query(anchor: ChildProcess | null, name: string, mode: 'multicast' | 'legacy' | 'goodbye', waitMs = 20_000): { ready: Promise<void>; records: Promise<Array<{ type: string; data: string; ttl: number }>> } {
  const [cmd, args] = within(anchor, [process.execPath, '--input-type=module', '-e', QUERIER, name, mode, String(waitMs)]);
  const child = track(spawn(cmd, args, { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('"ready"')) markReady();
  });
  const records = once(child, 'exit').then(() => {
    const last = JSON.parse(out.trim().split('\n').at(-1)!);
    if (last.timeout) throw new Error(`no mDNS ${mode} answer for ${name} in ${waitMs / 1000} s`);
    return last;
  });
  return { ready, records };
}

// A burst of 100 multicast queries (from port 5353), then one of 300 one-shot queries from one socket;
// prints how many multicast answers came, and how many one-shot queries were answered (within 3 s).
const FLOOD = `
import dgram from 'node:dgram';
import makeMdns from 'multicast-dns';
const [name] = process.argv.slice(1);
const socket = dgram.createSocket('udp4');
await new Promise((r) => socket.bind(0, r));
const one = makeMdns({ socket, bind: false, multicast: false });
const group = makeMdns();
await new Promise((r) => group.once('ready', r));
let unicast = 0;
let multicast = 0;
one.on('response', (r) => { if (r.id >= 1 && r.id <= 300 && r.answers.some((a) => a.name === name)) unicast++; });
group.on('response', (r) => { if (r.answers.some((a) => a.name === name)) multicast++; });
// One burst after the other: together they would overflow the responder's receive buffer.
for (let i = 0; i < 100; i++) group.query({ questions: [{ name, type: 'A' }] });
await new Promise((r) => setTimeout(r, 1500));
for (let id = 1; id <= 300; id++) one.query({ id, questions: [{ name, type: 'A' }] });
setTimeout(() => { console.log(JSON.stringify({ unicast, multicast })); process.exit(0); }, 3000);
`;

function logLines(out: string, text: string): string[] {
  return out.split('\n').filter((l) => l.includes(text));
}

/** multicastOnThisMachine — an interface other than loopback that is up with multicast (and an IPv4 address to send from). */
function multicastOnThisMachine(): boolean {
  const up = execFileSync('ip', ['-o', 'link', 'show', 'up']).toString();
  const names = [...up.matchAll(/^\d+:\s+([^:@\s]+)[^<]*<([^>]*)>/gm)].filter((m) => m[2]!.split(',').includes('MULTICAST') && !m[2]!.split(',').includes('LOOPBACK')).map((m) => m[1]!);
  return names.some((n) => (os.networkInterfaces()[n] ?? []).some((a) => a.family === 'IPv4'));
}

const uniqueName = () => `hearth-t${randomBytes(4).toString('hex')}`;

// GET over HTTPS as a device would (run as its own process, so that it can run inside a namespace):
// TLS checked for `servername` against the local CA, sent to `address`. Prints the status code.
const GET = `
import { readFileSync } from 'node:fs';
const [address, port, servername, ca, pathname] = process.argv.slice(1);
https.get({ host: address, port: Number(port), path: pathname, servername, headers: { host: servername + ':' + port }, ca: readFileSync(ca) }, (res) => {
  console.log(res.statusCode);
  process.exit(0);
}).on('error', (err) => {
  console.log(err.message);
  process.exit(1);
});
`;

/** statusOverTls — the status of GET `pathname` from `address` with TLS for `servername` checked against CERTS_DIR's CA. */
function statusOverTls(anchor: ChildProcess | null, address: string, port: number, servername: string, certsDir: string, pathname = '/login'): string {
  const [cmd, args] = within(anchor, [process.execPath, '--input-type=module', '-e', GET, address, String(port), servername, path.join(certsDir, 'ca.crt'), pathname]);
  return spawnSync(cmd, args).stdout.toString().trim();
}

describe('mDNS: <MDNS_NAME>.local (real Hearth processes, real multicast DNS)', function () {
  this.timeout(120_000);
  afterEach(async () => {
    for (const child of live.splice(0).reverse()) await stopChild(child);
  });

  /**
   * resolves — the whole story on one network (the machine's, or a namespace's): Hearth starts
   * with a fresh name, both kinds of querier get the box's addresses, the certificate has the name
   * (openssl), TLS for that name checks out at the resolved address, and SIGTERM sends a goodbye.
   */
  async function resolves(anchor: ChildProcess | null, expected: string[]): Promise<void> {
    const name = uniqueName();
    const host = `${name}.local`;
    const port = await freePort();
    const certsDir = tempDir('mdns-certs');
    const hearth = await startHearth(anchor, { MDNS_NAME: name, PORT: String(port), CERTS_DIR: certsDir });
    await answers(anchor, hearth, host, port, certsDir, expected);
  }

  async function answers(anchor: ChildProcess | null, hearth: Running, host: string, port: number, certsDir: string, expected: string[]): Promise<void> {
    expect(logLines(hearth.out(), 'announcing Hearth on the LAN by mDNS'), hearth.out()).to.have.length(1);
    // The printed addresses lead with the name.
    const printed = hearth.out().split('Hearth is running')[1]!.split('\n').filter((l) => l.startsWith('  https://'));
    expect(printed[0]!.trim()).to.equal(`https://${host}:${port}/`);

    // The two announcements go out in the first second; a query after them is answered, not announced.
    await sleep(1_500);
    const multicast = await query(anchor, host, 'multicast').records;
    expect(multicast.filter((r) => r.type === 'A').map((r) => r.data)).to.have.members(expected.filter((a) => !a.includes(':')));
    expect(multicast.map((r) => r.data)).to.have.members(expected);
    const legacy = await query(anchor, host, 'legacy').records;
    expect(legacy.map((r) => r.data)).to.have.members(expected);
    expect(legacy.every((r) => r.ttl <= 10), 'a legacy querier gets short TTLs').to.equal(true);

    const san = execFileSync('openssl', ['x509', '-in', path.join(certsDir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString();
    expect(san).to.include(`DNS:${host}`);
    const ipv4 = expected.find((a) => !a.includes(':'))!;
    expect(statusOverTls(anchor, ipv4, port, host, certsDir)).to.equal('200');

    const goodbye = query(anchor, host, 'goodbye');
    await goodbye.ready;
    hearth.child.kill('SIGTERM');
    const [code] = await once(hearth.child, 'exit');
    expect(code, hearth.out()).to.equal(0);
    expect((await goodbye.records).map((r) => r.data)).to.have.members(expected);
  }

  /** resolvesToLoopbackInNamespace — where only loopback has multicast, the name resolves to loopback (there is nothing else). */
  async function resolvesToLoopbackInNamespace(): Promise<void> {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    try {
      await resolves(anchor, ['127.0.0.1', '::1']);
    } finally {
      await stopChild(anchor);
    }
  }

  it('resolves <name>.local to the box on its own network: an OS-style multicast query and a one-shot query get its LAN addresses (a namespace with multicast on loopback when the machine has no multicast interface)', async function () {
    if (multicastOnThisMachine()) {
      const lan = Object.values(os.networkInterfaces()).flat().filter((a) => a && !a.internal && !a.address.toLowerCase().startsWith('fe80')).map((a) => a!.address);
      await resolves(null, [...new Set(lan)]);
    } else {
      await resolvesToLoopbackInNamespace();
    }
  });

  it('resolves <name>.local in a network namespace where only loopback has multicast: loopback addresses, since there is nothing else', resolvesToLoopbackInNamespace);

  it('with HOST set to one address: the name resolves to that address alone', async function () {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    const name = uniqueName();
    await startHearth(anchor, { MDNS_NAME: name, HOST: '127.0.0.1', PORT: String(await freePort()) });
    await sleep(1_500);
    expect((await query(anchor, `${name}.local`, 'legacy').records).map((r) => r.data)).to.deep.equal(['127.0.0.1']);
  });

  /** avahiNamespace — a LAN of two addresses (a veth pair) with its own system bus and avahi-daemon, in a private /run. */
  async function avahiNamespace(): Promise<ChildProcess> {
    for (const program of ['avahi-daemon', 'avahi-publish', 'avahi-resolve', 'dbus-daemon']) {
      if (spawnSync('sh', ['-c', `command -v ${program} || test -x /usr/sbin/${program}`]).status !== 0) {
        throw new Error(`${program} is missing: this test needs avahi-daemon, avahi-utils and dbus (scripts/test-setup.sh installs them)`);
      }
    }
    return inNamespace([
      'mount -t tmpfs tmpfs /run', 'mkdir -p /run/dbus /run/avahi-daemon', 'ip link set lo up',
      'ip link add v0 type veth peer name v1', 'ip addr add 10.77.0.1/24 dev v0', 'ip addr add 10.77.0.2/24 dev v1', 'ip link set v0 up', 'ip link set v1 up',
      'dbus-daemon --system --nofork --nopidfile >/dev/null 2>&1 & D=$!',
      'for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done',
      'PATH=$PATH:/usr/sbin avahi-daemon --no-chroot >/dev/null 2>&1 & A=$!',
      'for i in $(seq 100); do /usr/sbin/avahi-daemon --check && break; sleep 0.1; done',
    ].join('; '), { mounts: true, teardown: 'kill $A $D 2>/dev/null' });
  }

  it('two Hearths on one box with the same name (one on all addresses, one on loopback): no conflict, each starts announcing', async function () {
    const anchor = await inNamespace(['ip link set lo up', 'ip link set lo multicast on', 'ip link add v0 type veth peer name v1', 'ip addr add 10.77.0.1/24 dev v0',
      'ip addr add 10.77.0.2/24 dev v1', 'ip link set v0 up', 'ip link set v1 up', 'ip route add 224.0.0.0/4 dev v0'].join(' && '));
    const name = uniqueName();
    const all = await startHearth(anchor, { MDNS_NAME: name, PORT: String(await freePort()) });
    const loopback = await startHearth(anchor, { MDNS_NAME: name, HOST: '127.0.0.1', PORT: String(await freePort()) });
    for (const hearth of [all, loopback]) {
      expect(logLines(hearth.out(), UNAVAILABLE), hearth.out()).to.deep.equal([]);
      expect(logLines(hearth.out(), 'announcing Hearth on the LAN by mDNS'), hearth.out()).to.have.length(1);
    }
  });

  it('a flood of queries gets a bounded number of answers: one-shot replies capped per second, multicast answers at most one a second', async function () {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    const name = uniqueName();
    await startHearth(anchor, { MDNS_NAME: name, PORT: String(await freePort()) });
    await sleep(1_500); // past the two announcements
    const [cmd, args] = within(anchor, [process.execPath, '--input-type=module', '-e', FLOOD, `${name}.local`]);
    const { unicast, multicast } = JSON.parse(execFileSync(cmd, args, { cwd: ROOT_DIR }).toString().trim().split('\n').at(-1)!) as { unicast: number; multicast: number };
    // 300 one-shot queries sent at once fall in one or two seconds: at most 2 × 50 replies, and some.
    expect(unicast, JSON.stringify({ unicast, multicast })).to.be.within(1, 100);
    // 100 multicast queries at once: answered, but by a handful of packets, not 100.
    expect(multicast, JSON.stringify({ unicast, multicast })).to.be.within(1, 5);
  });

  it('through avahi-daemon when it runs: avahi-publish children announce the name (avahi-resolve finds it), and they end with Hearth, also after kill -9', async function () {
    const anchor = await avahiNamespace();
    const name = uniqueName();
    const hearth = await startHearth(anchor, { MDNS_NAME: name, PORT: String(await freePort()) });
    expect(logLines(hearth.out(), '"via":"avahi"'), hearth.out()).to.have.length(1);
    const resolve = () => {
      const [cmd, args] = within(anchor, ['avahi-resolve', '-4', '-n', `${name}.local`]);
      return spawnSync(cmd, args).stdout.toString().trim();
    };
    expect(resolve()).to.match(new RegExp(`^${name}\\.local\\s+10\\.77\\.0\\.[12]$`));
    const publishers = execFileSync('pgrep', ['-P', String(hearth.child.pid), '-f', 'avahi-publish']).toString().trim().split('\n').map(Number);
    expect(publishers).to.have.length(2);
    // Its Redis outlives kill -9 by design (the next start on DATA_DIR stops it): this test stops it itself.
    const redis = childPid(hearth.child.pid!, 'redis-server');
    hearth.child.kill('SIGKILL');
    await once(hearth.child, 'exit');
    killPid(redis);
    const deadline = Date.now() + 20_000;
    while (publishers.some((pid) => running(pid))) {
      if (Date.now() > deadline) throw new Error(`avahi-publish outlived Hearth's kill -9: ${publishers.filter((pid) => running(pid)).join(', ')}`);
      await sleep(100);
    }
    // avahi withdraws what a client that went away published (goodbye packets: caches drop it a second later).
    while (resolve() !== '') {
      if (Date.now() > deadline) throw new Error(`${name}.local still resolves after Hearth's kill -9`);
      await sleep(200);
    }
  });

  it('through avahi-daemon, with the name already held by another device on the LAN: one log line, no name, and Hearth serves', async function () {
    const anchor = await avahiNamespace();
    const name = uniqueName();
    const [cmd, args] = within(anchor, [process.execPath, '--input-type=module', '-e', RIVAL, `${name}.local`, '10.77.0.1']);
    const rival = start(spawn(cmd, args, { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'inherit'] }));
    await once(rival.stdout!, 'data');
    const port = await freePort();
    const certsDir = tempDir('mdns-certs');
    const hearth = await startHearth(anchor, { MDNS_NAME: name, PORT: String(port), CERTS_DIR: certsDir });
    const lines = logLines(hearth.out(), UNAVAILABLE);
    expect(lines, hearth.out()).to.have.length(1);
    // The one line about the name: nothing else of mDNS is logged.
    expect(logLines(hearth.out(), 'mDNS'), hearth.out()).to.deep.equal(lines);
    expect(lines[0], lines[0]).to.include('avahi-publish could not announce').and.to.match(/collision/i);
    expect(logLines(hearth.out(), 'announcing Hearth')).to.deep.equal([]);
    expect(hearth.out()).to.not.include(`https://${name}.local`);
    expect(statusOverTls(anchor, '127.0.0.1', port, 'localhost', certsDir)).to.equal('200');
    // No avahi-publish is left behind.
    expect(spawnSync('pgrep', ['-P', String(hearth.child.pid), '-f', 'avahi-publish']).stdout.toString().trim()).to.equal('');
  });

  it('with the name already held by another device on the LAN (built-in responder, which probes first): one log line, no name, and Hearth serves', async function () {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    const name = uniqueName();
    const [cmd, args] = within(anchor, [process.execPath, '--input-type=module', '-e', RIVAL, `${name}.local`]);
    const rival = start(spawn(cmd, args, { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'inherit'] }));
    await once(rival.stdout!, 'data');
    const port = await freePort();
    const certsDir = tempDir('mdns-certs');
    const hearth = await startHearth(anchor, { MDNS_NAME: name, PORT: String(port), CERTS_DIR: certsDir });
    const lines = logLines(hearth.out(), UNAVAILABLE);
    expect(lines, hearth.out()).to.have.length(1);
    // The one line about the name: nothing else of mDNS is logged.
    expect(logLines(hearth.out(), 'mDNS'), hearth.out()).to.deep.equal(lines);
    expect(lines[0]).to.include(`another device on the LAN already answers for ${name}.local (10.77.0.99)`);
    expect(hearth.out()).to.not.include(`https://${name}.local`);
    expect(statusOverTls(anchor, '127.0.0.1', port, 'localhost', certsDir)).to.equal('200');
    // The rival's answer stands alone: Hearth never answered for the name.
    expect((await query(anchor, `${name}.local`, 'multicast').records).map((r) => r.data)).to.deep.equal(['10.77.0.99']);
  });

  it('with no interface that has multicast: one log line, the addresses printed without the name, and Hearth serves (its certificate, made before without the name, re-issued by the same CA with it)', async function () {
    const anchor = await inNamespace('ip link set lo up');
    try {
      const name = uniqueName();
      const port = await freePort();
      const certsDir = tempDir('mdns-certs');
      // Everything the namespace's Hearth wants (it has no LAN address) but the name: the name alone makes it re-issue.
      const before = await ensureCertificates({ certsDir, tlsCert: null, tlsKey: null, sans: wantedSubjectAltNames(os.hostname(), []) });
      expect(before.sans).to.not.include(`DNS:${name}.local`);
      const caBefore = readFileSync(path.join(certsDir, 'ca.crt'), 'utf8');
      const hearth = await startHearth(anchor, { MDNS_NAME: name, PORT: String(port), CERTS_DIR: certsDir });
      const lines = logLines(hearth.out(), UNAVAILABLE);
      expect(lines, hearth.out()).to.have.length(1);
      // The one line about the name: nothing else of mDNS is logged.
      expect(logLines(hearth.out(), 'mDNS'), hearth.out()).to.deep.equal(lines);
      expect(lines[0]).to.include('no network interface is up with multicast on');
      expect(logLines(hearth.out(), 'issued a server certificate'), hearth.out()).to.have.length(1);
      expect(hearth.out()).to.not.include(`https://${name}.local`);
      expect(statusOverTls(anchor, '127.0.0.1', port, 'localhost', certsDir)).to.equal('200');
      // The certificate covers the name all the same (turning multicast on later needs no new one), signed by the CA devices already trust.
      expect(execFileSync('openssl', ['x509', '-in', path.join(certsDir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString()).to.include(`DNS:${name}.local`);
      expect(readFileSync(path.join(certsDir, 'ca.crt'), 'utf8')).to.equal(caBefore);
      expect(execFileSync('openssl', ['verify', '-CAfile', path.join(certsDir, 'ca.crt'), path.join(certsDir, 'server.crt')]).toString()).to.include(': OK');
      await stopChild(hearth.child);
      expect(hearth.child.exitCode, hearth.out()).to.equal(0);
    } finally {
      await stopChild(anchor);
    }
  });

  it('with UDP port 5353 held by a program that does not share it: one log line, and Hearth serves', async function () {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    const [cmd, args] = within(anchor, [process.execPath, '-e', "require('dgram').createSocket({ type: 'udp4' }).bind(5353, () => console.log('bound'))"]);
    const holder = start(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
    try {
      await once(holder.stdout!, 'data');
      const port = await freePort();
      const certsDir = tempDir('mdns-certs');
      const hearth = await startHearth(anchor, { MDNS_NAME: uniqueName(), PORT: String(port), CERTS_DIR: certsDir });
      const lines = logLines(hearth.out(), UNAVAILABLE);
      expect(lines, hearth.out()).to.have.length(1);
      // The one line about the name: nothing else of mDNS is logged.
      expect(logLines(hearth.out(), 'mDNS'), hearth.out()).to.deep.equal(lines);
      expect(lines[0]).to.include('EADDRINUSE');
      expect(statusOverTls(anchor, '127.0.0.1', port, 'localhost', certsDir)).to.equal('200');
      await stopChild(hearth.child);
      expect(hearth.child.exitCode, hearth.out()).to.equal(0);
    } finally {
      await stopChild(holder);
      await stopChild(anchor);
    }
  });

  it('MDNS=off: nothing is announced and no mDNS line is logged; the certificate still covers the name', async function () {
    const anchor = await inNamespace(LOOPBACK_MULTICAST);
    try {
      const name = uniqueName();
      const certsDir = tempDir('mdns-certs');
      const hearth = await startHearth(anchor, { MDNS_NAME: name, MDNS: 'off', PORT: String(await freePort()), CERTS_DIR: certsDir });
      expect(logLines(hearth.out(), 'mDNS')).to.deep.equal([]);
      expect(hearth.out()).to.not.include(`https://${name}.local`);
      // Nobody answers: the querier gives up after 5 s (an answer, had there been one, comes at once).
      const legacy = query(anchor, `${name}.local`, 'legacy', 5_000).records;
      await legacy.then(() => expect.fail('an answer came'), (err: Error) => expect(err.message).to.include('no mDNS legacy answer'));
      expect(execFileSync('openssl', ['x509', '-in', path.join(certsDir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString()).to.include(`DNS:${name}.local`);
      await stopChild(hearth.child);
    } finally {
      await stopChild(anchor);
    }
  });
});

describe('MDNS_NAME and MDNS (config)', function () {
  it('defaults to hearth, announced', () => {
    const config = loadConfig({});
    expect([config.mdnsName, config.mdns]).to.deep.equal(['hearth', true]);
  });

  it('takes one DNS label, lower-cased, and MDNS=off', () => {
    const config = loadConfig({ MDNS_NAME: 'Kitchen-2', MDNS: 'off' });
    expect([config.mdnsName, config.mdns]).to.deep.equal(['kitchen-2', false]);
    expect(loadConfig({ MDNS_NAME: 'a'.repeat(63) }).mdnsName).to.have.length(63);
  });

  for (const bad of ['hearth.local', 'my hearth', '-hearth', 'hearth-', 'a'.repeat(64), 'héarth', 'hearth_1', '<script>']) {
    it(`refuses MDNS_NAME=${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 8)}…(${bad.length})` : bad)} with a message naming it`, () => {
      expect(() => loadConfig({ MDNS_NAME: bad })).to.throw(ConfigError, /MDNS_NAME=.* is not valid: use one name of letters, digits and inner hyphens/);
    });
  }

  it('refuses MDNS other than on or off', () => {
    expect(() => loadConfig({ MDNS: 'yes' })).to.throw(ConfigError, /MDNS="yes" is not valid: use one of on, off/);
  });
});
