import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, DEFAULTS, LIMITS, loadConfig } from '../../src/server/config.js';
import { ROOT_DIR } from '../../src/server/paths.js';

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
    expect(c.redisMaxmemoryBytes).to.equal(256 * 1024 ** 2);
    expect(c.maxConnections).to.equal(2048);
    expect(c.maxConnectionsPerAddress).to.equal(256);
    expect(c.sessionSecret).to.equal(null);
  });

  it('holds every default that no environment variable sets (README: "What is limited, and how much")', () => {
    const c = loadConfig({});
    expect(c.heartbeatMs).to.equal(10_000);
    expect(c.rooms).to.deep.equal({ defaultCapacity: 6, callCapacity: 6 });
    expect(c.limits).to.equal(LIMITS);
    expect(c.limits.throttle).to.deep.equal({ perUserAndIp: 5, perIpPerDay: 100, blockSeconds: 900, registrationsPerHour: 20 });
    expect(c.limits).to.include({ roomsPerHour: 30, ringsPerMinute: 10, chatPer10s: 10 });
    expect(c.limits.signaling).to.deep.equal({ messagesPerSecond: 200, strikesPer10s: 50, socketsPerUser: 12, socketsPerAddress: 24, pendingFrames: 512, maxBufferedBytes: 4 * 1024 * 1024 });
    expect(c.limits.transport).to.deep.equal({ handshakeMs: 10_000, headersMs: 20_000, requestMs: 60_000 });
  });

  it('reads ICE_SERVERS as the protocol\'s ICE server schema does, leaving out fields it does not name', () => {
    const c = loadConfig({ ICE_SERVERS: '[{"urls":["stun:192.168.1.2:3478","turns:[fd00::2]:5349"],"username":"u","credential":"p","credentialType":"password"},{"urls":"turn:10.0.0.2"}]' });
    expect(c.iceServers).to.deep.equal([
      { urls: ['stun:192.168.1.2:3478', 'turns:[fd00::2]:5349'], username: 'u', credential: 'p' },
      { urls: 'turn:10.0.0.2' },
    ]);
  });

  it('uses SESSION_SECRET exactly as given when it has 32 characters or more, and ignores a shorter one', () => {
    const long = ` ${'s'.repeat(40)}`;
    expect(loadConfig({ SESSION_SECRET: long }).sessionSecret).to.equal(long);
    expect(loadConfig({ SESSION_SECRET: 'short' }).sessionSecret).to.equal(null);
  });

  it('reads REDIS_MAXMEMORY in the units redis-server uses', () => {
    const sizes: [string, number][] = [['64mb', 64 * 1024 ** 2], ['1GB', 1024 ** 3], ['65536kb', 64 * 1024 ** 2], [String(40 * 1024 ** 2), 40 * 1024 ** 2]];
    for (const [raw, bytes] of sizes) expect(loadConfig({ REDIS_MAXMEMORY: raw }).redisMaxmemoryBytes, raw).to.equal(bytes);
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
    ['ICE_SERVERS that is not an array', { ICE_SERVERS: '{"urls":"stun:x"}' }, /ICE_SERVERS must be/],
    ['ICE_SERVERS with an empty list of URLs', { ICE_SERVERS: '[{"urls":[]}]' }, /ICE_SERVERS must be/],
    ['ICE_SERVERS without urls', { ICE_SERVERS: '[{"username":"u"}]' }, /ICE_SERVERS must be/],
    ['ICE_SERVERS with a username that is not text', { ICE_SERVERS: '[{"urls":"turn:x","username":5}]' }, /ICE_SERVERS must be/],
    ['a non-numeric HTTP_PORT', { HTTP_PORT: 'web' }, /^HTTP_PORT="web" is not valid: use a whole number from 1 to 65535\.$/],
    ['a SESSION_IDLE_MINUTES below 5', { SESSION_IDLE_MINUTES: '1' }, /SESSION_IDLE_MINUTES="1".*5 to 43200/],
    ['a RING_TIMEOUT_SECONDS above 300', { RING_TIMEOUT_SECONDS: '301' }, /RING_TIMEOUT_SECONDS="301".*2 to 300/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ['REDIS_MAXMEMORY of 0 (unbounded)', { REDIS_MAXMEMORY: '0' }, /^REDIS_MAXMEMORY="0" is not valid: use a size from 32mb/],
    ['REDIS_MAXMEMORY too small to hold anything', { REDIS_MAXMEMORY: '1mb' }, /REDIS_MAXMEMORY="1mb"/],
    ['REDIS_MAXMEMORY with an unknown unit', { REDIS_MAXMEMORY: '2tb' }, /REDIS_MAXMEMORY="2tb"/],
    ['REDIS_MAXMEMORY as a percentage', { REDIS_MAXMEMORY: '50%' }, /REDIS_MAXMEMORY/],
    ['MAX_CONNECTIONS that is not a number', { MAX_CONNECTIONS: 'many' }, /^MAX_CONNECTIONS="many" is not valid/],
    ['MAX_CONNECTIONS_PER_ADDRESS below 8', { MAX_CONNECTIONS_PER_ADDRESS: '2' }, /MAX_CONNECTIONS_PER_ADDRESS.*8 to/],
  ];
  for (const [what, env, message] of bad) {
    it(`rejects ${what} with a clear message`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('matches the Configuration table of README.md: every variable, with its default', () => {
    const readme = readFileSync(path.join(ROOT_DIR, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const documented = new Map<string, string>();
    for (const [, names, cell] of table.matchAll(/^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \| ([^|]+) \|/gm)) {
      // `8443` or `::` (all interfaces) is a default; *(none)* and *(generated)* mean unset.
      const value = /^`([^`]*)`/.exec(cell!.trim())?.[1] ?? '';
      for (const [, name] of names!.matchAll(/`([A-Z_]+)`/g)) documented.set(name!, value);
    }
    expect([...documented.keys()].sort()).to.deep.equal(Object.keys(DEFAULTS).sort());
    for (const [name, value] of documented) expect(value, name).to.equal(DEFAULTS[name as keyof typeof DEFAULTS]);
  });
});
