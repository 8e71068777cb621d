// Keeps a server certificate whose names match this machine, signed by Hearth's local CA.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SCRIPTS_DIR } from '../paths.js';

const run = promisify(execFile);

/** TlsMaterial — what the HTTPS server needs, plus what to tell the user. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the local CA, or null when the user supplied their own certificate. */
  caFingerprint: string | null;
  /** Whether the certificate was (re)issued during this call. */
  issued: boolean;
  /** The certificate's names and addresses ("DNS:…", "IP:…"), sorted. */
  sans: string[];
  /** Names and addresses of this machine the local CA may not sign for, so the certificate leaves them out. */
  notCovered: string[];
  /** The local CA predates name constraints: devices that trust it would trust it for any site. */
  caUnconstrained: boolean;
}

/** NameConstraints — what the local CA may sign for (permitted subtrees only; Hearth's CA has no excluded ones). */
interface NameConstraints {
  dns: string[];
  ips: net.BlockList;
}

/** lanAddresses — the machine's non-internal IPv4 and IPv6 addresses (no link-local IPv6). */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      out.push(a.address);
    }
  }
  return [...new Set(out)];
}

/** wantedSubjectAltNames — the names and addresses the certificate must cover (and `<mdnsName>.local`, the name Hearth announces), sorted. */
export function wantedSubjectAltNames(hostname = os.hostname(), addresses = lanAddresses(), mdnsName: string | null = null): string[] {
  const host = hostname.toLowerCase().replace(/\.local$/, '');
  const announced = mdnsName ? [`${mdnsName.toLowerCase()}.local`] : [];
  const dns = ['localhost', host, `${host}.local`, ...announced].filter((h) => /^[a-z0-9.-]+$/.test(h));
  const ips = ['127.0.0.1', '::1', ...addresses];
  return [...new Set([...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)])].sort();
}

/** certSubjectAltNames — the SANs of an existing certificate, in the same form, sorted. */
export function certSubjectAltNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((s) => s.replace(/^IP Address:/, 'IP:').replace(/^DNS:/, 'DNS:'))
    .map((s) => (s.startsWith('IP:') ? `IP:${normalizeIp(s.slice(3))}` : s))
    .sort();
}

function normalizeIp(ip: string): string {
  // X509Certificate prints IPv6 fully expanded and upper-case; compare in compressed form.
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

// Just enough DER to read one extension: a TLV is a tag, a length (short or long form), a value.
interface Tlv { tag: number; start: number; end: number }
function tlv(der: Buffer, at: number): Tlv {
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  if (start + length > der.length) throw new Error('truncated DER');
  return { tag: der[at]!, start, end: start + length };
}
function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; at = out.at(-1)!.end) out.push(tlv(der, at));
  return out;
}

const NAME_CONSTRAINTS_OID = Buffer.from([0x55, 0x1d, 0x1e]); // 2.5.29.30
const SEQUENCE = 0x30;
const EXTENSIONS = 0xa3;
const PERMITTED = 0xa0;
const DNS_NAME = 0x82;
const IP_ADDRESS = 0x87;

/**
 * nameConstraintsOf — the permitted subtrees of a CA certificate (DER), or null when it has no
 * name constraints. Read in-process: start-up needs no openssl once the certificates exist.
 */
function nameConstraintsOf(der: Buffer): NameConstraints | null {
  const tbs = children(der, tlv(der, 0))[0]!;
  const extensions = children(der, tbs).find((t) => t.tag === EXTENSIONS);
  if (!extensions) return null;
  for (const ext of children(der, children(der, extensions)[0]!)) {
    const [oid, ...rest] = children(der, ext);
    if (!oid || !der.subarray(oid.start, oid.end).equals(NAME_CONSTRAINTS_OID)) continue;
    const value = rest.at(-1)!; // OCTET STRING after the optional "critical" BOOLEAN
    const dns: string[] = [];
    const ips = new net.BlockList();
    const permitted = children(der, tlv(der, value.start)).find((t) => t.tag === PERMITTED);
    for (const subtree of permitted ? children(der, permitted) : []) {
      if (subtree.tag !== SEQUENCE) continue;
      const base = children(der, subtree)[0];
      if (!base) continue;
      const bytes = der.subarray(base.start, base.end);
      if (base.tag === DNS_NAME) dns.push(bytes.toString('latin1').toLowerCase());
      if (base.tag === IP_ADDRESS && (bytes.length === 8 || bytes.length === 32)) {
        const half = bytes.length / 2;
        const family = half === 4 ? 'ipv4' : 'ipv6';
        const addr = half === 4 ? [...bytes.subarray(0, 4)].join('.')
          : Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
        const prefix = [...bytes.subarray(half)].map((b) => b.toString(2).padStart(8, '0')).join('').indexOf('0');
        ips.addSubnet(addr, prefix === -1 ? half * 8 : prefix, family);
      }
    }
    return { dns, ips };
  }
  return null;
}

/** coveredBy — whether a CA with these constraints may sign for `san` (RFC 5280: a name or any name under it). */
function coveredBy(constraints: NameConstraints | null, san: string): boolean {
  if (!constraints) return true;
  if (san.startsWith('DNS:')) {
    const name = san.slice(4).toLowerCase();
    return constraints.dns.some((c) => (c.startsWith('.') ? name.endsWith(c) : name === c || name.endsWith(`.${c}`)));
  }
  const ip = san.slice(3);
  return net.isIP(ip) !== 0 && constraints.ips.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
}

/**
 * ensureCertificates — the user's TLS_CERT/TLS_KEY if given (never touched), else the
 * generated server certificate, reissued when this machine's names or addresses changed
 * or it is about to expire. The local CA is made once and kept: a CA made before name
 * constraints is reported (caUnconstrained), never silently replaced, since every device
 * would have to trust a new one.
 */
export async function ensureCertificates(opts: { certsDir: string; tlsCert: string | null; tlsKey: string | null; sans?: string[]; mdnsName?: string | null }): Promise<TlsMaterial> {
  if (opts.tlsCert && opts.tlsKey) {
    const cert = readFileSync(opts.tlsCert);
    return { cert, key: readFileSync(opts.tlsKey), caFingerprint: null, issued: false, sans: sansOf(cert), notCovered: [], caUnconstrained: false };
  }
  const dir = opts.certsDir;
  const script = path.join(SCRIPTS_DIR, 'gen-certs.sh');
  const caFile = path.join(dir, 'ca.crt');
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  if (!existsSync(caFile) || !existsSync(path.join(dir, 'ca.key'))) await run(script, [dir]);
  const ca = new X509Certificate(readFileSync(caFile));
  const constraints = nameConstraintsOf(ca.raw);
  // A certificate made before MDNS_NAME was set (or changed) lacks the name: it is re-issued below.
  const all = (opts.sans ?? wantedSubjectAltNames(undefined, undefined, opts.mdnsName ?? null)).map((s) => (s.startsWith('IP:') ? `IP:${normalizeIp(s.slice(3))}` : s));
  // A name outside the CA's constraints would make browsers reject the whole certificate.
  const wanted = [...new Set(all.filter((s) => coveredBy(constraints, s)))].sort();
  const notCovered = [...new Set(all.filter((s) => !coveredBy(constraints, s)))].sort();
  let issued = false;
  if (!existsSync(certFile) || !existsSync(keyFile) || needsReissue(readFileSync(certFile), wanted)) {
    await run(script, [dir, ...wanted]);
    issued = true;
  }
  const cert = readFileSync(certFile);
  return { cert, key: readFileSync(keyFile), caFingerprint: ca.fingerprint256, issued, sans: sansOf(cert), notCovered, caUnconstrained: constraints === null };
}

function sansOf(pem: Buffer): string[] {
  try {
    return certSubjectAltNames(new X509Certificate(pem));
  } catch {
    return [];
  }
}

function needsReissue(pem: Buffer, wanted: string[]): boolean {
  try {
    const cert = new X509Certificate(pem);
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return true;
    return certSubjectAltNames(cert).join(',') !== wanted.join(',');
  } catch {
    return true;
  }
}
