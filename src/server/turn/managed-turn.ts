// Runs Hearth's own coturn (`TURN=managed`): a child on the box's LAN address with a fresh secret per start, never orphaned.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { isRunning, processIdentity } from '../process-info.js';
import { superviseChild, waitUntil } from '../supervised-child.js';

/** ManagedTurnError — coturn could not start for a reason the user can fix; the message says how. */
export class ManagedTurnError extends Error {
  override name = 'ManagedTurnError';
}

/** ManagedTurn — the running coturn child: what browsers are told, and how to stop it. */
export interface ManagedTurn {
  /** turn: URLs on each LAN address, UDP and TCP. */
  urls: string[];
  /** The static-auth-secret of this start (credentials are minted with it). */
  secret: string;
  pid(): number | undefined;
  /** stop — SIGTERM, SIGKILL if it takes longer than `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** abandon — Hearth must exit now: signal the child and do not wait (synchronous). */
  abandon(signal: NodeJS.Signals): void;
}

export interface ManagedTurnOptions {
  port: number;
  relayPorts: readonly [number, number];
  /** The turnserver PID a Hearth that died without cleaning up recorded in its DATA_DIR lock. */
  staleTurnPid?: number | null;
  /** Told each new child's PID (main records it in the DATA_DIR lock). */
  onChild?: (pid: number | null) => void;
  /** A busy TURN_PORT is not an error: warn and run without TURN (TURN was not asked for by name). */
  optional?: boolean;
  /** The box's LAN IPv4 addresses (default: from its interfaces). */
  addresses?: LanAddress[];
}

/** LanAddress — one IPv4 address of the box on a LAN, and its subnet. */
export interface LanAddress {
  address: string;
  /** e.g. 192.168.1.23/24 */
  cidr: string;
}

const START_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 20;
/** Relayed allocations one credential (one tab) may hold at once: a full mesh with transfers fits easily. */
const USER_QUOTA = 64;

// Bridges of containers and virtual machines on the box: no device of the LAN is behind them.
const VIRTUAL_BRIDGE = /^(docker|br-|veth|virbr|cni|flannel|podman|lxcbr|lxdbr)/;

/** lanIPv4 — the box's IPv4 addresses other than loopback, link-local (169.254/16) and container bridges. */
export function lanIPv4(): LanAddress[] {
  const out: LanAddress[] = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    if (VIRTUAL_BRIDGE.test(name)) continue;
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal || a.address.startsWith('127.') || a.address.startsWith('169.254.')) continue;
      if (a.cidr && !out.some((o) => o.address === a.address)) out.push({ address: a.address, cidr: a.cidr });
    }
  }
  return out;
}

const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** subnetRange — "192.168.1.23/24" as coturn's range form "192.168.1.0-192.168.1.255". */
function subnetRange(cidr: string): string {
  const [ip, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const first = Math.floor(toInt(ip!) / size) * size;
  return `${toIp(first)}-${toIp(first + size - 1)}`;
}

const ALL_IPV6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

/**
 * Peers coturn may relay to: private networks and the box's own subnets, nothing else. It is not
 * a way off the LAN (the internet is denied) nor into the box's TCP services (no TCP relay at all;
 * loopback, 0.0.0.0/8, link-local and multicast are denied). The box's own addresses stay
 * allowed: two browsers that both relay talk through two relay ports of this very coturn.
 */
const DENIED_PEERS = [
  '0.0.0.0-255.255.255.255', // everything not allowed below
  '0.0.0.0-0.255.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '224.0.0.0-255.255.255.255', // multicast, reserved, broadcast
  `::-${ALL_IPV6}`,
  '::1',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  `ff00::-${ALL_IPV6}`,
];
const PRIVATE_PEERS = ['10.0.0.0-10.255.255.255', '172.16.0.0-172.31.255.255', '192.168.0.0-192.168.255.255'];

/** turnserverConfig — coturn's configuration file (no command-line secret: /proc/<pid>/cmdline is world-readable). */
function turnserverConfig(dir: string, secret: string, port: number, relayPorts: readonly [number, number], lan: LanAddress[]): string {
  const lines = [
    `listening-port=${port}`,
    ...lan.map((a) => `listening-ip=${a.address}`),
    ...lan.map((a) => `relay-ip=${a.address}`),
    `min-port=${relayPorts[0]}`,
    `max-port=${relayPorts[1]}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=hearth',
    'fingerprint',
    `user-quota=${USER_QUOTA}`,
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-tcp-relay',
    'no-rfc5780',
    'no-software-attribute',
    'no-multicast-peers',
    ...DENIED_PEERS.map((r) => `denied-peer-ip=${r}`),
    ...[...PRIVATE_PEERS, ...lan.map((a) => subnetRange(a.cidr))].map((r) => `allowed-peer-ip=${r}`),
    `userdb=${path.join(dir, 'turndb')}`,
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
  ];
  return lines.join('\n') + '\n';
}

/** stunAnswers — true when a STUN Binding request to ip:port gets a Binding success response. */
export function stunAnswers(ip: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const id = randomBytes(12);
    const req = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
    let settled = false;
    // An error may follow the answer (or another error): the socket is closed once.
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (m) => {
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(id)) done(true);
    });
    sock.send(req, port, ip);
  });
}

/** portFree — nothing listens on ip:port, UDP or TCP. */
async function portFree(ip: string, port: number): Promise<boolean> {
  const udp = dgram.createSocket('udp4');
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.on('error', () => resolve(false));
    udp.bind(port, ip, () => resolve(true));
  });
  udp.close();
  if (!udpOk) return false;
  const srv = net.createServer();
  const tcpOk = await new Promise<boolean>((resolve) => {
    srv.on('error', () => resolve(false));
    srv.listen(port, ip, () => resolve(true));
  });
  if (tcpOk) await new Promise((r) => srv.close(r));
  return tcpOk;
}

/** isOurTurnserver — a turnserver process started with this DATA_DIR's configuration file. */
function isOurTurnserver(pid: number, confPath: string): boolean {
  const who = processIdentity(pid);
  if (!who) return false;
  const args = who.cmdline.split('\0');
  return path.basename(args[0] ?? '') === 'turnserver' && args.includes(confPath);
}

/**
 * stopOrphans — a turnserver left by a Hearth that died without stopping it (kill -9): the PID its
 * lock recorded, or the one in coturn's pidfile, if it really is a turnserver of this DATA_DIR.
 */
async function stopOrphans(pids: (number | null | undefined)[], confPath: string, log: Logger): Promise<boolean> {
  let stopped = false;
  for (const pid of new Set(pids)) {
    if (!pid || !isOurTurnserver(pid, confPath)) continue;
    stopped = true;
    log.warn({ pid }, 'a turnserver left running by a Hearth that stopped without cleaning up: stopping it');
    signal(pid, 'SIGTERM');
    if (await waitUntil(() => !isRunning(pid), 3_000)) continue;
    signal(pid, 'SIGKILL');
    if (!(await waitUntil(() => !isRunning(pid), 2_000))) throw new ManagedTurnError(`A turnserver (PID ${pid}) left by an earlier Hearth is still running and could not be stopped. Stop it, then start Hearth again.`);
  }
  return stopped;
}

/** signal — to a process that may have exited meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch { /* gone already */ }
}

function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/**
 * startManagedTurn — starts coturn on the box's LAN IPv4 address(es) and waits until it answers
 * STUN. Null (TURN stays off, one log line) when the box has no LAN address: a relay on loopback
 * would be refused for every peer. The caller holds the DATA_DIR lock.
 */
export async function startManagedTurn(dataDir: string, log: Logger, opts: ManagedTurnOptions): Promise<ManagedTurn | null> {
  const lan = opts.addresses ?? lanIPv4();
  if (lan.length === 0) {
    log.warn('TURN is off: this machine has no LAN IPv4 address for the relay (set TURN=off to silence this)');
    return null;
  }
  const dir = path.join(dataDir, 'turn');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const confPath = path.join(dir, 'turnserver.conf');
  const pidPath = path.join(dir, 'turnserver.pid');
  const stopped = await stopOrphans([opts.staleTurnPid, existsSync(pidPath) ? readPid(pidPath) : null], confPath, log);
  // An orphan's main thread is gone (a zombie) a moment before its other threads let go of the port.
  const free = async (ip: string) => (await portFree(ip, opts.port)) || (stopped && (await waitUntil(() => portFree(ip, opts.port), 5_000)));
  for (const a of lan) {
    if (!(await free(a.address))) {
      if (opts.optional) {
        log.warn({ port: opts.port }, 'TURN is off: TURN_PORT is in use (another Hearth on this machine?). Give each Hearth its own TURN_PORT, or set TURN=off');
        return null;
      }
      throw new ManagedTurnError(`TURN_PORT ${opts.port} is already in use on ${a.address} (another Hearth, or the coturn system service: sudo systemctl disable --now coturn). Stop it, or set TURN_PORT to a free port.`);
    }
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(confPath, turnserverConfig(dir, secret, opts.port, opts.relayPorts, lan), { mode: 0o600 });

  const recent: string[] = [];
  const launch = async (): Promise<ChildProcess> => {
    const c = spawn('turnserver', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const spawned = await once(c, 'spawn').then(() => null, (err: NodeJS.ErrnoException) => err);
    if (spawned?.code === 'ENOENT') throw new ManagedTurnError('turnserver is not installed. Run ./install.sh, or: sudo apt-get install coturn (or set TURN=off).');
    if (spawned) throw new ManagedTurnError(`turnserver could not start: ${spawned.message}`);
    opts.onChild?.(c.pid ?? null);
    let partial = '';
    const keep = (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!.slice(-1000);
      for (const line of lines) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > LOG_LINES_KEPT) recent.shift();
        log.debug({ turnserver: line }, 'turnserver');
      }
    };
    c.stdout!.on('data', keep);
    c.stderr!.on('data', keep);
    const ready = await waitUntil(async () => c.exitCode !== null || c.signalCode !== null || (await stunAnswers(lan[0]!.address, opts.port)), START_TIMEOUT_MS);
    if (!ready || c.exitCode !== null || c.signalCode !== null) {
      c.kill('SIGKILL');
      throw new ManagedTurnError(`turnserver did not start: ${recent.filter((l) => /error|cannot|fail/i.test(l)).pop() ?? recent.pop() ?? '(no output)'}`);
    }
    return c;
  };
  const child = await superviseChild('turnserver', launch, log);
  const urls = lan.flatMap((a) => [`turn:${a.address}:${opts.port}?transport=udp`, `turn:${a.address}:${opts.port}?transport=tcp`]);
  log.info({ pid: child.pid(), port: opts.port, relayPorts: opts.relayPorts.join('-'), addresses: lan.map((a) => a.address) }, 'managed turnserver started');
  return { urls, secret, ...child };
}
