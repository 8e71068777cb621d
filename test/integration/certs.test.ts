import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certSubjectAltNames, ensureCertificates, wantedSubjectAltNames } from '../../src/server/tls/certs.js';
import { tempDir } from '../helpers/processes.js';

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
});
