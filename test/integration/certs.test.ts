// The local CA and server certificate, made by the real scripts/gen-certs.sh and checked by the real openssl.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { certSubjectAltNames, ensureCertificates, wantedSubjectAltNames } from '../../src/server/tls/certs.js';
import { tempDir } from '../helpers/processes.js';

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** signWithCa — a server certificate for `sans`, signed with the CA key in `dir` (as someone holding that key could). */
function signWithCa(dir: string, sans: string): string {
  const work = tempDir('forged');
  const [key, csr, ext, crt] = ['k.pem', 'r.csr', 'ext.cnf', 'c.pem'].map((f) => path.join(work, f)) as [string, string, string, string];
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key);
  openssl('req', '-new', '-key', key, '-subj', '/CN=forged', '-out', csr);
  writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`);
  openssl('x509', '-req', '-in', csr, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', crt);
  return crt;
}

/** verify — `openssl verify` of `cert` against the CA in `dir`: its exit status and what it said. */
function verify(dir: string, cert: string): { ok: boolean; said: string } {
  const r = spawnSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), cert]);
  return { ok: r.status === 0, said: `${r.stdout}${r.stderr}` };
}

/** oldCa — a CA as Hearth made them before name constraints. */
function oldCa(dir: string): void {
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(dir, 'ca.key'));
  openssl('req', '-x509', '-new', '-key', path.join(dir, 'ca.key'), '-sha256', '-days', '3650', '-subj', '/O=Hearth/CN=Hearth local CA (old)',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash',
    '-out', path.join(dir, 'ca.crt'));
}

describe('certificates (real openssl via scripts/gen-certs.sh)', function () {
  this.timeout(30_000);

  it('wants localhost, loopback, the hostname, <hostname>.local and every LAN address', () => {
    const sans = wantedSubjectAltNames('NAS', ['192.168.1.20', 'fd00::5']);
    expect(sans).to.have.members(['DNS:localhost', 'DNS:nas', 'DNS:nas.local', 'IP:127.0.0.1', 'IP:::1', 'IP:192.168.1.20', 'IP:fd00::5']);
  });

  it('makes a CA once and a server certificate it signs; reissues only when the addresses change', async () => {
    const dir = tempDir('certs-test');
    const first = await ensureCertificates({ certsDir: dir, tlsCert: null, tlsKey: null, sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:10.0.0.7'] });
    expect(first.issued).to.equal(true);
    const ca = new X509Certificate(readFileSync(path.join(dir, 'ca.crt')));
    const server = new X509Certificate(first.cert);
    expect(ca.ca).to.equal(true);
    expect(server.verify(ca.publicKey)).to.equal(true);
    expect(certSubjectAltNames(server)).to.deep.equal(['DNS:localhost', 'IP:10.0.0.7', 'IP:127.0.0.1']);
    expect(first.caFingerprint).to.equal(ca.fingerprint256);
    expect(statSync(path.join(dir, 'server.key')).mode & 0o077).to.equal(0);

    const same = await ensureCertificates({ certsDir: dir, tlsCert: null, tlsKey: null, sans: ['IP:127.0.0.1', 'DNS:localhost', 'IP:10.0.0.7'] });
    expect(same.issued).to.equal(false);

    const moved = await ensureCertificates({ certsDir: dir, tlsCert: null, tlsKey: null, sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:10.0.0.8', 'IP:::1'] });
    expect(moved.issued).to.equal(true);
    expect(certSubjectAltNames(new X509Certificate(moved.cert))).to.include.members(['IP:10.0.0.8', 'IP:::1']);
    // The CA stays the same, so devices that trusted it keep trusting the new certificate.
    expect(new X509Certificate(readFileSync(path.join(dir, 'ca.crt'))).fingerprint256).to.equal(ca.fingerprint256);
  });

  it('never touches a user-supplied TLS_CERT/TLS_KEY', async () => {
    const dir = tempDir('certs-own');
    const made = await ensureCertificates({ certsDir: dir, tlsCert: null, tlsKey: null, sans: ['DNS:localhost'] });
    const own = tempDir('own');
    const cert = path.join(own, 'mine.crt');
    const key = path.join(own, 'mine.key');
    writeFileSync(cert, made.cert);
    writeFileSync(key, made.key);
    const before = statSync(cert).mtimeMs;
    const used = await ensureCertificates({ certsDir: tempDir('unused'), tlsCert: cert, tlsKey: key, sans: ['DNS:elsewhere'] });
    expect(used.issued).to.equal(false);
    expect(used.caFingerprint).to.equal(null);
    expect(used.cert.equals(made.cert)).to.equal(true);
    expect(statSync(cert).mtimeMs).to.equal(before);
  });

  describe('name constraints on the local CA', () => {
    let dir: string;
    let made: Awaited<ReturnType<typeof ensureCertificates>>;
    before(async () => {
      dir = tempDir('certs-nc');
      made = await ensureCertificates({ certsDir: dir, tlsCert: null, tlsKey: null,
        sans: ['DNS:localhost', 'DNS:nas.local', 'IP:127.0.0.1', 'IP:::1', 'IP:192.168.1.20', 'IP:fd00::5', 'IP:8.8.8.8', 'IP:2001:db8::7', 'DNS:nas.example.com'] });
    });

    it('are critical and permit only local names and private addresses', () => {
      const text = openssl('x509', '-in', path.join(dir, 'ca.crt'), '-noout', '-ext', 'nameConstraints');
      expect(text).to.match(/Name Constraints: critical/);
      const permitted = [...text.matchAll(/^\s*((?:DNS|IP):\S+)\s*$/gm)].map((m) => m[1]);
      const host = os.hostname().toLowerCase().replace(/\.local$/, '');
      expect(permitted).to.include.members(['DNS:localhost', 'DNS:local', 'DNS:lan', 'DNS:home.arpa', 'DNS:internal', `DNS:${host}`,
        'IP:127.0.0.0/255.0.0.0', 'IP:10.0.0.0/255.0.0.0', 'IP:172.16.0.0/255.240.0.0', 'IP:192.168.0.0/255.255.0.0',
        'IP:169.254.0.0/255.255.0.0', 'IP:100.64.0.0/255.192.0.0']);
      expect(permitted.filter((p) => p!.startsWith('IP:') && p!.includes(':', 3))).to.have.lengthOf(3); // ::1/128, fc00::/7, fe80::/10
      expect(text).to.not.match(/Excluded/);
      expect(made.caUnconstrained).to.equal(false);
    });

    it('leave out of the server certificate what the CA may not sign for, and openssl verifies it', () => {
      expect(made.notCovered).to.deep.equal(['DNS:nas.example.com', 'IP:2001:db8::7', 'IP:8.8.8.8']);
      expect(made.sans).to.deep.equal(['DNS:localhost', 'DNS:nas.local', 'IP:127.0.0.1', 'IP:192.168.1.20', 'IP:::1', 'IP:fd00::5']);
      const r = verify(dir, path.join(dir, 'server.crt'));
      expect(r.ok, r.said).to.equal(true);
      expect(verify(dir, signWithCa(dir, 'DNS:printer.lan,DNS:nas.home.arpa,IP:10.1.2.3,IP:fe80::1')).ok, 'other local names').to.equal(true);
    });

    it('make openssl reject a certificate for another site signed with the same CA key', () => {
      for (const sans of ['DNS:evil.example', 'DNS:localhost,DNS:bank.example.com', 'IP:8.8.8.8', 'IP:2001:4860::8888', 'DNS:local.evil.example']) {
        const r = verify(dir, signWithCa(dir, sans));
        expect(r.ok, `${sans}: ${r.said}`).to.equal(false);
        expect(r.said, sans).to.match(/subtree violation/i);
      }
    });

    it('keep a CA made before constraints (devices trust it), and say so', async () => {
      const legacy = tempDir('certs-old');
      oldCa(legacy);
      const before = new X509Certificate(readFileSync(path.join(legacy, 'ca.crt'))).fingerprint256;
      const kept = await ensureCertificates({ certsDir: legacy, tlsCert: null, tlsKey: null, sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:8.8.8.8'] });
      expect(kept.caUnconstrained).to.equal(true);
      expect(kept.caFingerprint).to.equal(before);
      expect(kept.notCovered).to.deep.equal([]);
      expect(verify(legacy, path.join(legacy, 'server.crt')).ok).to.equal(true);
    });
  });
});
