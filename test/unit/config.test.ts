import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/server/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, '/srv/hearth');
    expect(c.port).to.equal(8443);
    expect(c.host).to.equal('::');
    expect(c.httpPort).to.equal(null);
    expect(c.dataDir).to.equal('/srv/hearth/var');
    expect(c.certsDir).to.equal('/srv/hearth/certs');
    expect(c.redisUrl).to.equal(null);
    expect(c.registration).to.equal('open');
    expect(c.iceServers).to.deep.equal([]);
  });

  it('reads every variable it is given', () => {
    const c = loadConfig({ PORT: '9443', HOST: '127.0.0.1', HTTP_PORT: '8080', DATA_DIR: '/data', REDIS_URL: 'redis://10.0.0.2:6379',
      REGISTRATION: 'closed', ICE_SERVERS: '[{"urls":"stun:192.168.1.2:3478"}]' }, '/x');
    expect(c).to.include({ port: 9443, host: '127.0.0.1', httpPort: 8080, dataDir: '/data', redisUrl: 'redis://10.0.0.2:6379', registration: 'closed' });
    expect(c.iceServers).to.deep.equal([{ urls: 'stun:192.168.1.2:3478' }]);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['a non-numeric port', { PORT: 'eighty' }, /^PORT="eighty" is not valid/],
    ['a port out of range', { PORT: '70000' }, /PORT.*0 to 65535/],
    ['a negative port', { PORT: '-1' }, /PORT/],
    ['HTTP_PORT equal to PORT', { PORT: '8443', HTTP_PORT: '8443' }, /HTTP_PORT must differ/],
    ['an unknown REGISTRATION', { REGISTRATION: 'maybe' }, /REGISTRATION="maybe".*open, closed/],
    ['a REDIS_URL of another scheme', { REDIS_URL: 'http://x' }, /REDIS_URL/],
    ['TLS_CERT without TLS_KEY', { TLS_CERT: '/a.pem' }, /TLS_CERT and TLS_KEY go together/],
    ['ICE_SERVERS that is not JSON', { ICE_SERVERS: '[' }, /ICE_SERVERS is not valid JSON/],
    ['ICE_SERVERS with a bad URL', { ICE_SERVERS: '[{"urls":"http://x"}]' }, /ICE_SERVERS must be/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ];
  for (const [what, env, message] of bad) {
    it(`rejects ${what} with a clear message`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }
});
