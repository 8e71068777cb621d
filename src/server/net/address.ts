// Who is "one address" for limits: the client (behind a trusted proxy, the one it forwarded for); IPv4 as is, IPv6 by its /64.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import proxyaddr from 'proxy-addr';

/** TrustProxy — TRUST_PROXY as read: off, a number of proxy hops, or the proxies' addresses and subnets (names as proxy-addr knows them: loopback, linklocal, uniquelocal). */
export type TrustProxy = false | number | readonly string[];

/** TrustFn — whether the hop at `addr` (`i` hops from Hearth: 0 is the socket's peer) is a proxy whose X-Forwarded-For is believed. */
export type TrustFn = (addr: string, i: number) => boolean;

/** compileTrust — TRUST_PROXY as the function Express (`trust proxy`) and proxy-addr take; throws on an address or subnet it cannot read. */
export function compileTrust(setting: TrustProxy): TrustFn {
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_addr, i) => i < setting;
  return proxyaddr.compile([...setting]);
}

/**
 * clientAddress — the address a request came from, for every per-address limit: the socket's
 * peer, or, when that peer is a trusted proxy, the client named in X-Forwarded-For (the same
 * walk Express does for `req.ip`). An Express request carries its app's trust setting; a bare
 * request (the WebSocket upgrade) is given it. Untrusted, X-Forwarded-For is ignored, so a
 * guesser cannot dodge a throttle by sending a made-up one.
 */
export function clientAddress(req: IncomingMessage, trust?: TrustFn): string | undefined {
  const fn = trust ?? (req as { app?: { get(name: string): unknown } }).app?.get('trust proxy fn');
  if (typeof fn !== 'function' || !req.socket.remoteAddress) return req.socket.remoteAddress;
  return proxyaddr(req, fn as TrustFn);
}

/**
 * addressKey — the key per-address limits count under. IPv4-mapped IPv6 ("::ffff:1.2.3.4")
 * is the IPv4 address; other IPv6 addresses are grouped by their /64 prefix, because one
 * device may take any address in its /64 (privacy extensions) and would get fresh limits.
 */
export function addressKey(raw: string | undefined | null): string {
  const ip = (raw ?? '').trim();
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (net.isIPv4(ip)) return ip;
  if (!net.isIPv6(ip)) return 'unknown';
  const hextets = expandIPv6(ip.split('%')[0]!);
  return `${hextets.slice(0, 4).join(':')}::/64`;
}

/**
 * deviceAddress — one device's address, for caps on what a device holds open (sockets): IPv4
 * as is (also when IPv4-mapped), IPv6 whole. Not grouped by /64: on a LAN every IPv6 device
 * shares the network's /64, and a family's phones and laptops must not share one socket cap.
 */
export function deviceAddress(raw: string | undefined | null): string {
  const ip = (raw ?? '').trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  return net.isIP(ip.split('%')[0]!) ? ip.toLowerCase() : 'unknown';
}

/** expandIPv6 — the eight hextets of an IPv6 address, lower-case, without leading zeros. */
function expandIPv6(ip: string): string[] {
  let s = ip.toLowerCase();
  // A trailing dotted quad ("::1.2.3.4") is two hextets.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, null];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === null ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((h) => parseInt(h || '0', 16).toString(16));
}
