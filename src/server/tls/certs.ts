// Keeps a server certificate whose names match this machine, signed by Hearth's local CA.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

/** wantedSubjectAltNames — the names and addresses the certificate must cover, sorted. */
export function wantedSubjectAltNames(hostname = os.hostname(), addresses = lanAddresses()): string[] {
  const host = hostname.toLowerCase().replace(/\.local$/, '');
  const dns = ['localhost', host, `${host}.local`].filter((h) => /^[a-z0-9.-]+$/.test(h));
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

/**
 * ensureCertificates — the user's TLS_CERT/TLS_KEY if given (never touched), else the
 * generated server certificate, reissued when this machine's names or addresses changed
 * or it is about to expire.
 */
export async function ensureCertificates(opts: { certsDir: string; tlsCert: string | null; tlsKey: string | null; sans?: string[] }): Promise<TlsMaterial> {
  if (opts.tlsCert && opts.tlsKey) {
    return { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey), caFingerprint: null, issued: false };
  }
  const dir = opts.certsDir;
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  const wanted = (opts.sans ?? wantedSubjectAltNames()).map((s) => (s.startsWith('IP:') ? `IP:${normalizeIp(s.slice(3))}` : s)).sort();
  let issued = false;
  if (!existsSync(path.join(dir, 'ca.crt')) || !existsSync(certFile) || !existsSync(keyFile) || needsReissue(readFileSync(certFile), wanted)) {
    await run(path.join(SCRIPTS_DIR, 'gen-certs.sh'), [dir, ...wanted]);
    issued = true;
  }
  const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt')));
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), caFingerprint: ca.fingerprint256, issued };
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
