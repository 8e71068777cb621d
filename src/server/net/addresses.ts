// Hearth's address for people: the URLs to print, show and put in QR codes, best first.
import net from 'node:net';
import os from 'node:os';
import type { Config } from '../config.js';
import { lanAddresses } from '../tls/certs.js';

/** AddressContext — what the best address depends on besides the configuration. */
export interface AddressContext {
  /** The HTTPS port Hearth really listens on (PORT=0 picks one). */
  port: number;
  /** The certificate's names ("DNS:…", "IP:…"): an address it does not cover would only show a warning. Omitted: no check. */
  sans?: readonly string[];
  /** The Host header of the request being answered: how this visitor reached Hearth. */
  requestHost?: string | null;
  /** Whether that request came over HTTPS (its port is Hearth's) or plain HTTP (HTTP_PORT: the port is not). */
  requestSecure?: boolean;
  /** The box's LAN addresses and hostname (tests pass their own). */
  lan?: readonly string[];
  hostname?: string;
}

// A plain host and optional port, nothing else: the Host header is the visitor's to choose.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/;
const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
const WILDCARD_HOSTS = new Set(['', '::', '0.0.0.0', '::0', '0:0:0:0:0:0:0:0']);

/** isLoopback — localhost names and loopback addresses: no other device can use them. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const family = net.isIPv4(h) ? 'ipv4' : net.isIPv6(h) ? 'ipv6' : null;
  return family !== null && LOOPBACK.check(h, family);
}

/** httpsUrl — https://host:port/ (IPv6 in brackets; no port for 443). */
export function httpsUrl(host: string, port: number): string {
  const h = net.isIPv6(host) ? `[${host}]` : host;
  return `https://${h}${port === 443 ? '' : `:${port}`}/`;
}

/** fromRequest — the visitor's own way in, unless it is loopback (a phone cannot use it) or malformed. */
function fromRequest(ctx: AddressContext): string | null {
  const m = HOST_HEADER.exec((ctx.requestHost ?? '').trim().toLowerCase());
  if (!m || isLoopback(m[1]!)) return null;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (host.includes(':') && !net.isIPv6(host)) return null;
  // Over HTTPS the port in Host is Hearth's as the visitor sees it (a proxy's, say); over plain HTTP it is HTTP_PORT's.
  const port = ctx.requestSecure === false ? ctx.port : m[2] ? Number(m[2]) : 443;
  return port > 0 && port <= 65535 ? httpsUrl(host, port) : null;
}

/**
 * publicAddresses — Hearth's HTTPS addresses as people on the LAN should use them, best first
 * (the first is the one for QR codes): the visitor's own Host when it is not loopback; then,
 * when Hearth listens on all interfaces, <MDNS_NAME>.local (MDNS=on), the box's LAN addresses (IPv4 first) and names the
 * certificate covers, and localhost last; when it listens on one address, that address.
 */
export function publicAddresses(config: Pick<Config, 'host'> & Partial<Pick<Config, 'mdns' | 'mdnsName'>>, ctx: AddressContext): string[] {
  const covered = (san: string) => !ctx.sans || ctx.sans.includes(san);
  const urls: string[] = [];
  const own = fromRequest(ctx);
  if (own) urls.push(own);
  const bound = config.host.trim().replace(/^\[|\]$/g, '');
  if (!WILDCARD_HOSTS.has(bound)) {
    urls.push(httpsUrl(bound, ctx.port));
  } else {
    // The name Hearth announces by mDNS leads: it outlives DHCP's address changes.
    const announced = config.mdns && config.mdnsName ? `${config.mdnsName}.local` : null;
    if (announced && covered(`DNS:${announced}`)) urls.push(httpsUrl(announced, ctx.port));
    const lan = ctx.lan ?? lanAddresses();
    const byFamily = [...lan.filter((a) => net.isIPv4(a)), ...lan.filter((a) => net.isIPv6(a))];
    for (const a of byFamily) if (covered(`IP:${a}`)) urls.push(httpsUrl(a, ctx.port));
    const host = (ctx.hostname ?? os.hostname()).toLowerCase().replace(/\.local$/, '');
    if (/^[a-z0-9-]+$/.test(host) && covered(`DNS:${host}.local`)) urls.push(httpsUrl(`${host}.local`, ctx.port));
    urls.push(httpsUrl('localhost', ctx.port));
  }
  return [...new Set(urls)];
}
