// The trust page's device picker (whose steps come first) and Hearth's address choice, as pure functions.
import { expect } from 'chai';
import { httpsUrl, isLoopback, publicAddresses } from '../../src/server/net/addresses.js';
import { deviceFromUserAgent, devicesInOrder } from '../../src/server/tls/devices.js';

describe('trust page: the visitor\'s device', () => {
  const cases: [string, string | null][] = [
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'android'],
    ['Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0', 'android'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'ios'],
    ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', 'ios'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1', 'ios'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'macos'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', 'linux'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'linux'],
    ['curl/8.5.0', null],
    ['', null],
  ];
  for (const [ua, kind] of cases) {
    it(`${kind ?? 'unknown'} ← ${ua.slice(0, 60) || '(no User-Agent)'}`, () => {
      expect(deviceFromUserAgent(ua)).to.equal(kind);
    });
  }

  it('knows nothing without a User-Agent header', () => {
    expect(deviceFromUserAgent(undefined)).to.equal(null);
    expect(deviceFromUserAgent(null)).to.equal(null);
  });

  it('lists every device once, the visitor\'s first and marked', () => {
    const order = devicesInOrder(cases[2]![0]);
    expect(order.map((d) => d.kind)).to.deep.equal(['ios', 'android', 'windows', 'macos', 'linux']);
    expect(order.filter((d) => d.yours).map((d) => d.kind)).to.deep.equal(['ios']);
    expect(order[0]!.label).to.equal('iPhone and iPad');
  });

  it('keeps its own order and marks none for an unknown device', () => {
    const order = devicesInOrder('curl/8.5.0');
    expect(order.map((d) => d.kind)).to.deep.equal(['android', 'ios', 'windows', 'macos', 'linux']);
    expect(order.some((d) => d.yours)).to.equal(false);
  });
});

describe('Hearth\'s address for people (publicAddresses)', () => {
  const box = { lan: ['192.168.1.20', 'fd00::20', '10.0.0.5'], hostname: 'kitchen' };
  const all = { host: '::' };

  it('tells loopback names and addresses from the rest', () => {
    for (const h of ['localhost', 'a.localhost', '127.0.0.1', '127.9.8.7', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopback(h), h).to.equal(true);
    for (const h of ['192.168.1.2', 'fe80::1', 'hearth.local', 'localhost.example', '10.0.0.1']) expect(isLoopback(h), h).to.equal(false);
  });

  it('writes URLs with IPv6 in brackets and no port for 443', () => {
    expect(httpsUrl('fd00::1', 8443)).to.equal('https://[fd00::1]:8443/');
    expect(httpsUrl('hearth.local', 443)).to.equal('https://hearth.local/');
  });

  it('without a request: the box\'s IPv4 addresses first, then IPv6, <hostname>.local and localhost', () => {
    expect(publicAddresses(all, { port: 8443, ...box })).to.deep.equal([
      'https://192.168.1.20:8443/', 'https://10.0.0.5:8443/', 'https://[fd00::20]:8443/', 'https://kitchen.local:8443/', 'https://localhost:8443/',
    ]);
  });

  it('leaves out what the certificate does not cover', () => {
    const sans = ['DNS:localhost', 'IP:10.0.0.5', 'IP:127.0.0.1'];
    expect(publicAddresses(all, { port: 8443, sans, ...box })).to.deep.equal(['https://10.0.0.5:8443/', 'https://localhost:8443/']);
  });

  it('puts the visitor\'s own way in first, unless it is loopback', () => {
    expect(publicAddresses(all, { port: 8443, requestHost: 'Hearth.Lan:8443', ...box })[0]).to.equal('https://hearth.lan:8443/');
    expect(publicAddresses(all, { port: 8443, requestHost: '[fd00::20]:9443', ...box })[0]).to.equal('https://[fd00::20]:9443/');
    expect(publicAddresses(all, { port: 8443, requestHost: 'proxy.home.arpa', ...box })[0]).to.equal('https://proxy.home.arpa/');
    expect(publicAddresses(all, { port: 8443, requestHost: '127.0.0.1:8443', ...box })[0]).to.equal('https://192.168.1.20:8443/');
    expect(publicAddresses(all, { port: 8443, requestHost: 'localhost:8443', ...box })[0]).to.equal('https://192.168.1.20:8443/');
  });

  it('over plain HTTP (HTTP_PORT) keeps the visitor\'s host but uses Hearth\'s HTTPS port', () => {
    expect(publicAddresses(all, { port: 8443, requestHost: 'nas.local:80', requestSecure: false, ...box })[0]).to.equal('https://nas.local:8443/');
    expect(publicAddresses(all, { port: 443, requestHost: '192.168.1.20:8080', requestSecure: false, ...box })[0]).to.equal('https://192.168.1.20/');
  });

  it('ignores a Host header that is not a plain host and port', () => {
    for (const requestHost of ['evil.example/"><script>', 'a b', 'user@host', 'x:99999', '[nope]:1', ':8443', 'a:b:c']) {
      expect(publicAddresses(all, { port: 8443, requestHost, ...box })[0], requestHost).to.equal('https://192.168.1.20:8443/');
    }
  });

  it('listening on one address, offers only that one (after the visitor\'s)', () => {
    expect(publicAddresses({ host: '192.168.1.20' }, { port: 8443, ...box })).to.deep.equal(['https://192.168.1.20:8443/']);
    expect(publicAddresses({ host: '127.0.0.1' }, { port: 8443, requestHost: '127.0.0.1:8443', ...box })).to.deep.equal(['https://127.0.0.1:8443/']);
  });
});
