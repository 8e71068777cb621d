// Announces Hearth as <MDNS_NAME>.local on the LAN: through avahi-daemon when it runs, else a built-in mDNS responder.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import makeMdns from 'multicast-dns';
import type { Logger } from '../log.js';

const run = promisify(execFile);

/** MdnsAnnouncer — a running announcement; stop() withdraws it (goodbye packets) and never throws. */
export interface MdnsAnnouncer {
  /** The announced name, e.g. "hearth.local". */
  readonly hostname: string;
  readonly via: 'avahi' | 'built-in';
  stop(): Promise<void>;
}

export interface MdnsOptions {
  /** One DNS label (config.ts checks it); ".local" is added here. */
  name: string;
  log: Logger;
  /** HOST: when Hearth listens on one address, the name resolves to that address alone. */
  host?: string;
}

const MDNS_PORT = 5353;
const MDNS_GROUP = '224.0.0.251';
// RFC 6762 §10: 120 s for records naming a host; a legacy (one-shot) querier gets at most 10 s.
const HOST_TTL = 120;
const LEGACY_TTL = 10;
const ANNOUNCE_AGAIN_MS = 1_000;
// RFC 6762 §8.1: three probes, 250 ms apart, before claiming a name.
const PROBES = 3;
const PROBE_WAIT_MS = 250;
const GOODBYE_WAIT_MS = 500;
// RFC 6762 §6: a record is multicast at most once a second; one-shot unicast replies are capped too,
// so a flood of queries from the LAN costs a bounded amount of sending.
const MULTICAST_GAP_MS = 1_000;
// A prober (RFC 6762 §8.2: its query carries the records it wants) is answered at once, at most every 250 ms.
const PROBE_REPLY_GAP_MS = 250;
const UNICAST_REPLIES_PER_SECOND = 50;
const AVAHI_WAIT_MS = 5_000;
// Linux interface flags (include/uapi/linux/if.h).
const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

/**
 * mdnsAddresses — what the name resolves to: the box's LAN addresses (IPv4, and IPv6 other than
 * link-local, which would need a zone), loopback only when the box has nothing else; only
 * HOST's address when Hearth listens on one.
 */
function mdnsAddresses(host?: string): string[] {
  const bound = host?.replace(/^\[|\]$/g, '').toLowerCase();
  if (bound && net.isIP(bound) && !/^(::|0\.0\.0\.0|::0)$/.test(bound)) return [bound];
  const lan: string[] = [];
  const loopback: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      (a.internal ? loopback : lan).push(a.address);
    }
  }
  return [...new Set(lan.length ? lan : loopback)];
}

/**
 * multicastInterfaces — names of the interfaces that are up with multicast on, or null when this
 * cannot be told (not Linux). Asked of `ip` (netlink sees this process's network namespace; a
 * /sys mounted for another namespace would not), else read from /sys.
 */
async function multicastInterfaces(): Promise<string[] | null> {
  const ip = onPath('ip');
  if (ip) {
    try {
      const { stdout } = await run(ip, ['-o', 'link', 'show', 'up'], { timeout: 2_000 });
      return [...stdout.matchAll(/^\d+:\s+([^:@\s]+)[^<]*<([^>]*)>/gm)].filter((m) => m[2]!.split(',').includes('MULTICAST')).map((m) => m[1]!);
    } catch { /* fall back to /sys */ }
  }
  const dir = '/sys/class/net';
  if (!existsSync(dir)) return null;
  try {
    return readdirSync(dir).filter((name) => {
      const flags = Number.parseInt(readFileSync(path.join(dir, name, 'flags'), 'utf8').trim(), 16);
      return (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0;
    });
  } catch {
    return null;
  }
}

/** onPath — the full path of a program found on PATH (and the sbin folders a non-root PATH lacks), or null. */
function onPath(program: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) if (existsSync(path.join(dir, program))) return path.join(dir, program);
  return null;
}

/**
 * startMdns — starts announcing `<name>.local`. When multicast is not available (no interface
 * with multicast, the port cannot be had, sending fails) it logs one line and returns null:
 * Hearth goes on, reachable by its addresses.
 */
export async function startMdns(opts: MdnsOptions): Promise<MdnsAnnouncer | null> {
  const hostname = `${opts.name.toLowerCase()}.local`;
  const unavailable = (reason: string) => {
    opts.log.warn({ name: hostname, reason }, `${hostname} is not announced on the LAN (mDNS): reach Hearth by its address`);
    return null;
  };
  const ifaces = await multicastInterfaces();
  if (ifaces && ifaces.length === 0) return unavailable('no network interface is up with multicast on');
  try {
    return (await startAvahi(hostname, opts.host, opts.log)) ?? (await startBuiltIn(hostname, opts.host, opts.log));
  } catch (err) {
    return unavailable((err as Error).message);
  }
}

// ---- avahi-daemon ---------------------------------------------------------------------------

/** avahiTools — avahi-publish and setpriv when avahi-daemon runs (it owns port 5353 then), else null. */
function avahiTools(): { publish: string; setpriv: string | null } | null {
  const publish = onPath('avahi-publish');
  const daemon = onPath('avahi-daemon');
  if (!publish || !daemon) return null;
  if (spawnSync(daemon, ['--check'], { stdio: 'ignore', timeout: 2_000 }).status !== 0) return null;
  return { publish, setpriv: onPath('setpriv') };
}

/**
 * startAvahi — one `avahi-publish -a -R` child per address: avahi-daemon answers for the name
 * (and withdraws it when the child ends). Children die with Hearth, even after kill -9 (setpriv's
 * parent-death signal). Null when avahi is not running, so the built-in responder takes over;
 * throws when avahi runs but will not publish the name.
 */
async function startAvahi(hostname: string, host: string | undefined, log: Logger): Promise<MdnsAnnouncer | null> {
  const tools = avahiTools();
  if (!tools) return null;
  const children: ChildProcess[] = [];
  const stopAll = () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); };
  const onExit = () => stopAll();
  process.on('exit', onExit);
  let stopping = false;
  for (const address of mdnsAddresses(host)) {
    const args = ['-a', '-R', hostname, address];
    const child = tools.setpriv
      ? spawn(tools.setpriv, ['--pdeathsig', 'TERM', '--', tools.publish, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(tools.publish, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const outcome = await new Promise<string | null>((resolve) => {
      let said = '';
      const hear = (d: Buffer) => {
        said += d.toString();
        if (/Established under name/i.test(said)) resolve(null);
      };
      child.stdout!.on('data', hear);
      child.stderr!.on('data', hear);
      child.once('error', (err) => resolve(err.message));
      child.once('exit', () => resolve(said.trim().split('\n').join(' / ') || 'avahi-publish ended'));
      setTimeout(() => resolve(`avahi-publish said nothing in ${AVAHI_WAIT_MS / 1000} s`), AVAHI_WAIT_MS).unref();
    });
    if (outcome !== null) {
      stopAll();
      process.off('exit', onExit);
      // avahi runs but would not publish (the name taken on the LAN, say): the built-in responder
      // must not answer for a name someone else holds, so this is the one line, and no name.
      throw new Error(`avahi-publish could not announce ${address}: ${outcome}`);
    }
    child.on('exit', (code, signal) => {
      if (!stopping) log.warn({ name: hostname, address, code, signal }, 'avahi-publish stopped: the name is no longer announced for this address');
    });
  }
  log.info({ name: hostname, via: 'avahi', addresses: mdnsAddresses(host) }, 'announcing Hearth on the LAN by mDNS');
  return {
    hostname,
    via: 'avahi',
    async stop() {
      stopping = true;
      const exited = children.filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => new Promise((r) => c.once('exit', r)));
      stopAll();
      await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, GOODBYE_WAIT_MS).unref())]);
      process.off('exit', onExit);
    },
  };
}

// ---- the built-in responder -----------------------------------------------------------------

type AddressRecord = { name: string; type: 'A' | 'AAAA'; ttl: number; class: 'IN'; flush: boolean; data: string };

function records(hostname: string, host: string | undefined, ttl: number, flush = true): AddressRecord[] {
  return mdnsAddresses(host).map((ip) => ({ name: hostname, type: net.isIPv4(ip) ? 'A' : 'AAAA', ttl, class: 'IN', flush, data: ip }));
}

/**
 * probe — asks for the name before claiming it (our records in the authority section, as RFC 6762
 * probes do); an answer with an address that is not this box's means another device holds it.
 * Resolves with that address, or null. Another Hearth on this same box answers with this box's
 * addresses, which is no conflict.
 */
async function probe(responder: ReturnType<typeof makeMdns>, hostname: string, host: string | undefined): Promise<string | null> {
  // Every address of this box counts as ours: a Hearth here bound to one address must not take
  // another Hearth here (answering with the box's LAN addresses) for a rival.
  const ours = new Set([...mdnsAddresses(host), ...Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address))]);
  let rival: string | null = null;
  const hear = (res: { answers?: Array<{ name: string; type: string; data?: unknown }>; additionals?: Array<{ name: string; type: string; data?: unknown }> }) => {
    for (const a of [...(res.answers ?? []), ...(res.additionals ?? [])]) {
      if (a.name.toLowerCase() === hostname && (a.type === 'A' || a.type === 'AAAA') && !ours.has(String(a.data))) rival = String(a.data);
    }
  };
  responder.on('response', hear);
  try {
    for (let i = 0; i < PROBES && !rival; i++) {
      await new Promise<void>((resolve, reject) => responder.query(
        // dns-packet's types leave out ANY, which it encodes all the same.
        { questions: [{ name: hostname, type: 'ANY' as 'A' }], authorities: records(hostname, host, HOST_TTL, false) },
        (err: Error | null) => (err ? reject(err) : resolve()),
      ));
      await new Promise((r) => setTimeout(r, PROBE_WAIT_MS));
    }
  } finally {
    responder.off('response', hear);
  }
  return rival;
}

/**
 * startBuiltIn — a responder on UDP 5353 (shared: SO_REUSEADDR) answering A and AAAA questions
 * for the name with the box's addresses, as they are when asked. It probes first (a name another
 * device holds is not taken), announces twice on start (RFC 6762 §8.3) and says goodbye (TTL 0) on stop.
 */
async function startBuiltIn(hostname: string, host: string | undefined, log: Logger): Promise<MdnsAnnouncer> {
  const responder = makeMdns({ port: MDNS_PORT, ip: MDNS_GROUP, reuseAddr: true });
  // A failed bind is emitted twice (the socket's error, then the bind's): one handler, kept, hears both.
  let failed: ((err: Error) => void) | null = null;
  let complained = false;
  responder.on('error', (err: Error) => {
    if (failed) return failed(err);
    // Later socket errors cost the name, never Hearth: one line, and the responder is left as it is.
    if (!complained) log.warn({ name: hostname, err: err.message }, 'the mDNS responder failed');
    complained = true;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      failed = reject;
      responder.once('ready', resolve);
    });
    failed = null;
  } catch (err) {
    responder.destroy();
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'EADDRINUSE' ? `UDP port ${MDNS_PORT} is taken by a program that does not share it (${e.code})` : `cannot listen on UDP port ${MDNS_PORT}: ${e.message}`);
  }
  let lastMulticast = 0;
  const send = (packet: Parameters<typeof responder.respond>[0], to?: { port: number; address: string }) => {
    if (!to) lastMulticast = Date.now();
    return new Promise<void>((resolve, reject) => responder.respond(packet, to as never, (err: Error | null) => (err ? reject(err) : resolve())));
  };
  let rival: string | null;
  try {
    rival = await probe(responder, hostname, host);
    if (!rival) await send({ answers: records(hostname, host, HOST_TTL) });
  } catch (err) {
    responder.destroy();
    throw new Error(`cannot send to the mDNS group: ${(err as Error).message}`);
  }
  if (rival) {
    responder.destroy();
    throw new Error(`another device on the LAN already answers for ${hostname} (${rival}): give this Hearth another MDNS_NAME`);
  }
  responder.on('warning', (err: Error) => log.debug({ err: err.message }, 'mDNS warning'));

  // A multicast answer asked for within a second of the last waits for that second (one at most);
  // unicast replies beyond the cap in one second are dropped (the querier asks again).
  let pending: NodeJS.Timeout | null = null;
  let lastProbeReply = 0;
  let unicastWindow = 0;
  let unicastSent = 0;
  const multicast = (packet: Parameters<typeof send>[0]) => {
    const wait = lastMulticast + MULTICAST_GAP_MS - Date.now();
    if (wait <= 0) return void send(packet).catch((err: Error) => log.debug({ err: err.message }, 'mDNS reply not sent'));
    pending ??= setTimeout(() => {
      pending = null;
      send({ answers: records(hostname, host, HOST_TTL) }).catch((err: Error) => log.debug({ err: err.message }, 'mDNS reply not sent'));
    }, wait);
  };
  responder.on('query', (query, rinfo) => {
    // dns-packet's types leave out ANY (255), which it decodes all the same.
    const asked = (query.questions ?? []).filter((q) => q.name.toLowerCase() === hostname && ['A', 'AAAA', 'ANY'].includes(q.type as string));
    if (!asked.length) return;
    const types = new Set<string>(asked.map((q) => q.type as string));
    // A querier not on port 5353 is a one-shot (legacy) resolver: it wants a unicast reply that
    // echoes its id and question (RFC 6762 §6.7).
    const legacy = rinfo.port !== MDNS_PORT;
    const all = records(hostname, host, legacy ? LEGACY_TTL : HOST_TTL, !legacy);
    const answers = all.filter((r) => types.has('ANY') || types.has(r.type));
    if (!answers.length) return;
    const additionals = all.filter((r) => !answers.includes(r));
    // A device probing for the name must hear of us within its 250 ms, not after our one-second gap.
    if (!legacy && query.authorities?.length && Date.now() - lastProbeReply >= PROBE_REPLY_GAP_MS) {
      lastProbeReply = Date.now();
      return void send({ answers: all }).catch((err: Error) => log.debug({ err: err.message }, 'mDNS reply not sent'));
    }
    if (!legacy) return multicast({ answers, additionals });
    const second = Math.floor(Date.now() / 1000);
    if (second !== unicastWindow) [unicastWindow, unicastSent] = [second, 0];
    if (++unicastSent > UNICAST_REPLIES_PER_SECOND) return;
    send({ id: query.id, questions: asked, answers, additionals }, { port: rinfo.port, address: rinfo.address })
      .catch((err: Error) => log.debug({ err: err.message }, 'mDNS reply not sent'));
  });

  const again = setTimeout(() => void send({ answers: records(hostname, host, HOST_TTL) }).catch(() => {}), ANNOUNCE_AGAIN_MS);
  again.unref();
  log.info({ name: hostname, via: 'built-in', addresses: mdnsAddresses(host) }, 'announcing Hearth on the LAN by mDNS');
  let stopped = false;
  return {
    hostname,
    via: 'built-in',
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(again);
      if (pending) clearTimeout(pending);
      // Goodbye: the same records with TTL 0, so caches drop the name now rather than in 2 minutes.
      await Promise.race([send({ answers: records(hostname, host, 0) }).catch(() => {}), new Promise((r) => setTimeout(r, GOODBYE_WAIT_MS).unref())]);
      await new Promise<void>((r) => responder.destroy(() => r()));
    },
  };
}
