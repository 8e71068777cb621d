// Who is "one address" for limits: IPv4 as is, IPv6 by its /64 (a host can rotate through a whole /64).
import net from 'node:net';

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
