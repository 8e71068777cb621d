// TURN settings and credentials: defaults, refusals, and the TURN REST scheme coturn checks.
import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { turnCredential, turnIceServers } from '../../src/server/turn/credentials.js';

describe('TURN settings', () => {
  it('defaults to managed when turnserver is on PATH, else off; port 3478, relay ports 49160-49399, policy all', () => {
    const none = loadConfig({ PATH: '/nonexistent' });
    expect(none.turn).to.deep.include({ mode: 'off', port: 3478, relayPorts: [49160, 49399], iceTransportPolicy: 'all', servers: null, credentialSeconds: 3600 });
    expect(loadConfig({ PATH: `/nonexistent:/usr/bin:/usr/sbin` }).turn.mode).to.equal('managed'); // npm test installs coturn
    expect(loadConfig({ PATH: '/usr/bin', TURN: 'off' }).turn.mode).to.equal('off');
  });

  it('takes an external TURN server with its URLs and shared secret', () => {
    const c = loadConfig({ TURN: 'external', TURN_URLS: 'turn:192.168.1.2:3478?transport=udp, turn:192.168.1.2:3478?transport=tcp', TURN_SECRET: 'a-long-shared-secret', ICE_TRANSPORT_POLICY: 'relay' });
    expect(c.turn).to.deep.include({ mode: 'external', iceTransportPolicy: 'relay', servers: { urls: ['turn:192.168.1.2:3478?transport=udp', 'turn:192.168.1.2:3478?transport=tcp'], secret: 'a-long-shared-secret' } });
  });

  const refused: [Record<string, string>, string][] = [
    [{ TURN: 'yes' }, 'TURN="yes" is not valid: use one of managed, off, external.'],
    [{ TURN_PORT: '70000' }, 'TURN_PORT="70000" is not valid: use a whole number from 1 to 65535.'],
    [{ TURN_RELAY_PORTS: '500-600' }, 'TURN_RELAY_PORTS="500-600" is not valid'],
    [{ TURN_RELAY_PORTS: '50000-49000' }, 'TURN_RELAY_PORTS="50000-49000" is not valid'],
    [{ TURN_URLS: 'http://x' }, 'TURN_URLS="http://x" is not valid'],
    [{ TURN: 'external', TURN_URLS: 'turn:10.0.0.2' }, 'TURN=external needs TURN_URLS'],
    [{ TURN: 'external', TURN_SECRET: 'a-long-shared-secret' }, 'TURN=external needs TURN_URLS'],
    [{ TURN: 'off', ICE_TRANSPORT_POLICY: 'relay' }, 'ICE_TRANSPORT_POLICY=relay needs a TURN server'],
    [{ ICE_TRANSPORT_POLICY: 'none' }, 'ICE_TRANSPORT_POLICY="none" is not valid: use one of all, relay.'],
  ];
  for (const [env, message] of refused) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('never repeats TURN_SECRET in a message', () => {
    expect(() => loadConfig({ TURN: 'external', TURN_URLS: 'turn:10.0.0.2', TURN_SECRET: 'short' })).to.throw(ConfigError).with.property('message').that.does.not.include('short');
  });
});

describe('TURN credentials', () => {
  it('username is <expiry>:<user id>, credential base64(HMAC-SHA1(secret, username))', () => {
    const now = Date.UTC(2026, 0, 1);
    const c = turnCredential('s3cret', 'user-1', 3600, now);
    expect(c.username).to.equal(`${now / 1000 + 3600}:user-1`);
    expect(c.credential).to.equal(createHmac('sha1', 's3cret').update(c.username).digest('base64'));
  });

  it('gives none while TURN has no server, and the configured URLs when it has', () => {
    const off = loadConfig({ TURN: 'off' }).turn;
    expect(turnIceServers(off, 'u')).to.deep.equal([]);
    const ext = loadConfig({ TURN: 'external', TURN_URLS: 'turn:10.0.0.2:3478', TURN_SECRET: 'a-long-shared-secret' }).turn;
    const [server] = turnIceServers(ext, 'u', 0);
    expect(server).to.deep.equal({ urls: ['turn:10.0.0.2:3478'], ...turnCredential('a-long-shared-secret', 'u', 3600, 0) });
  });
});
