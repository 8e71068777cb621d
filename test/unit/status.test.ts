// The Status page's logic without a server: traffic counts and transfers in progress, readings and messages/s, chart geometry, wording, and METRICS_TOKEN.
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { MAX_TRACKED_TRANSFERS, SignalingTraffic, TRANSFER_EXPIRY_MS } from '../../src/server/signaling/traffic.js';
import { chartShape, niceTop } from '../../src/client/status/lib/chart.js';
import { messageRate, readFigures, StatusHistory, WINDOW_MS, type Point } from '../../src/client/status/lib/history.js';
import type { ClientMessage } from '../../src/shared/protocol.js';
import { describeFigures, formatDelay, formatMemory, formatRate, type StatusFigures } from '../../src/shared/status.js';

const reading = (at: number, over: Partial<StatusFigures> = {}): StatusFigures => ({
  at, peopleOnline: 3, roomsLive: 2, calls: 1, transfersInProgress: 0, messagesTotal: 100, messagesPerSecond: 1.5, sockets: 4,
  redis: { up: true, usedMemoryBytes: 2 * 1024 ** 2, maxMemoryBytes: 256 * 1024 ** 2, latencySeconds: 0.0004 },
  process: { rssBytes: 80 * 1024 ** 2, heapUsedBytes: 30 * 1024 ** 2 }, eventLoopDelaySeconds: 0.012, ...over,
});

const ledger = (transferId: string, state: 'offered' | 'resumed' | 'verified' | 'declined' | 'failed' | 'cancelled', who: 'sender' | 'receiver' | 'everyone' = 'sender'): ClientMessage => ({
  type: 'ledger', transferId, name: 'f', size: 1, sha256: null, state,
  ...(who === 'receiver' ? { to: null, from: 'PEERPEERPEER' } : who === 'everyone' ? { to: null } : { to: 'PEERPEERPEER' }),
});

describe('SignalingTraffic', () => {
  it('counts messages by type, every type starting at zero', () => {
    const t = new SignalingTraffic();
    t.received('dnd');
    t.received('dnd');
    t.received('chat');
    expect(t.messages().get('dnd')).to.equal(2);
    expect(t.messages().get('join')).to.equal(0);
    expect(t.messagesTotal()).to.equal(3);
  });

  it('averages messages per second over the last ten whole seconds', () => {
    let now = 1_000_000;
    const t = new SignalingTraffic(() => now);
    for (let i = 0; i < 20; i++) t.received('signal');
    expect(t.messagesPerSecond(), 'the current second is not whole yet').to.equal(0);
    now += 1_000;
    expect(t.messagesPerSecond()).to.equal(2);
    now += 11_000;
    expect(t.messagesPerSecond(), 'gone out of the window').to.equal(0);
  });

  it('counts a transfer from its offer until a final report, by either side', () => {
    const t = new SignalingTraffic();
    t.handled(ledger('A', 'offered'));
    t.handled(ledger('B', 'offered'));
    t.handled(ledger('B', 'resumed'));
    expect(t.transfersInProgress()).to.equal(2);
    t.handled(ledger('A', 'verified', 'receiver'));
    t.handled(ledger('B', 'cancelled'));
    expect(t.transfersInProgress()).to.equal(0);
    // A late report of an ended transfer that is final changes nothing; other messages neither.
    t.handled(ledger('A', 'failed', 'receiver'));
    t.handled({ type: 'dnd', on: true });
    expect(t.transfersInProgress()).to.equal(0);
  });

  it('leaves out "to everyone" summaries, whose end is never reported under their id', () => {
    const t = new SignalingTraffic();
    t.handled(ledger('ALL', 'offered', 'everyone'));
    expect(t.transfersInProgress()).to.equal(0);
  });

  it('forgets a transfer an hour after its last report, and keeps at most MAX_TRACKED_TRANSFERS', () => {
    let now = 0;
    const t = new SignalingTraffic(() => now);
    t.handled(ledger('OLD', 'offered'));
    now += TRANSFER_EXPIRY_MS / 2;
    t.handled(ledger('NEW', 'offered'));
    now += TRANSFER_EXPIRY_MS / 2 + 1;
    expect(t.transfersInProgress()).to.equal(1);
    for (let i = 0; i < MAX_TRACKED_TRANSFERS + 50; i++) t.handled(ledger(`T${i}`, 'offered'));
    expect(t.transfersInProgress()).to.equal(MAX_TRACKED_TRANSFERS);
  });
});

describe('status readings', () => {
  it('accepts a reading and refuses anything else', () => {
    expect(readFigures(reading(1))).to.deep.equal(reading(1));
    expect(readFigures(JSON.parse(JSON.stringify(reading(1, { peopleOnline: null }))))).to.not.equal(null);
    for (const bad of [null, [], 'x', { error: { status: 403 } }, reading(1, { sockets: -1 }), reading(1, { at: Number.NaN }),
      { ...reading(1), redis: { up: 'yes' } }, { ...reading(1), process: null }]) {
      expect(readFigures(bad), JSON.stringify(bad)).to.equal(null);
    }
  });

  it('takes messages/s from the counter\'s growth, or the server\'s own figure first and after a restart', () => {
    expect(messageRate(null, reading(10_000))).to.equal(1.5);
    expect(messageRate(reading(10_000, { messagesTotal: 100 }), reading(12_000, { messagesTotal: 150 }))).to.equal(25);
    expect(messageRate(reading(10_000, { messagesTotal: 100 }), reading(12_000, { messagesTotal: 7 })), 'counter began again').to.equal(1.5);
  });

  it('keeps five minutes of readings, ignores one that is not newer, and gives every figure', () => {
    const h = new StatusHistory();
    const start = 1_000_000;
    expect(h.add(reading(start))!.map((f) => f.label)).to.deep.equal([
      'People online', 'Rooms live', 'Calls', 'Transfers in progress', 'Signaling messages/s', 'Redis memory', 'Redis latency', 'Process memory', 'Event-loop delay',
    ]);
    expect(h.add(reading(start))).to.equal(null);
    expect(h.span, 'a minute at least').to.equal(60_000);
    h.add(reading(start + 90_000));
    expect(h.span).to.equal(90_000);
    for (let i = 46; i <= 200; i++) h.add(reading(start + i * 2_000, { messagesTotal: 100 + i * 10 }));
    const people = h.series('people');
    expect(people.length).to.equal(WINDOW_MS / 2_000 + 1);
    expect(people[0]!.t).to.equal(h.now - WINDOW_MS);
    expect(h.span, 'five minutes at most').to.equal(WINDOW_MS);
    expect(h.series('messages').at(-1)!.values).to.deep.equal([5]);
    expect(h.series('process-memory').at(-1)!.values).to.deep.equal([80 * 1024 ** 2, 30 * 1024 ** 2]);
  });

  it('words the figures, and says so when Redis is silent', () => {
    const figures = describeFigures(reading(1), 2.25);
    const text = Object.fromEntries(figures.map((f) => [f.key, f.text]));
    expect(text).to.deep.equal({
      people: '3', rooms: '2', calls: '1', transfers: '0', messages: '2.3', 'redis-memory': '2.0 MiB', 'redis-latency': '0.40 ms', 'process-memory': '80 MiB', 'event-loop': '12 ms',
    });
    expect(figures.find((f) => f.key === 'redis-memory')!.detail).to.equal('used of 256 MiB');
    const silent = describeFigures(reading(1, { peopleOnline: null, roomsLive: null, calls: null, redis: { up: false, usedMemoryBytes: null, maxMemoryBytes: null, latencySeconds: null } }), null);
    expect(silent.filter((f) => f.text === '—').map((f) => f.key)).to.deep.equal(['people', 'rooms', 'calls', 'messages', 'redis-memory', 'redis-latency']);
    expect(silent.find((f) => f.key === 'redis-latency')!.detail).to.equal('Redis is not answering');
    expect([formatMemory(512), formatMemory(1536), formatMemory(5 * 1024 ** 3)]).to.deep.equal(['512 B', '1.5 KiB', '5.0 GiB']);
    expect([formatDelay(0.25), formatRate(1234.4)]).to.deep.equal(['250 ms', '1,234']);
  });
});

describe('sparkline geometry', () => {
  const box = { width: 100, height: 20, now: 10_000, windowMs: 10_000, pad: 0 };
  const p = (t: number, ...values: (number | null)[]): Point => ({ t, values });

  it('scales to a calm top: 1, 2 or 5 × 10ⁿ', () => {
    expect([0, 0.3, 1, 1.2, 3, 7, 10, 42, 999].map(niceTop)).to.deep.equal([1, 0.5, 1, 2, 5, 10, 10, 50, 1000]);
  });

  it('places time left to right and values bottom to top, with the area under the first line and the latest point', () => {
    const s = chartShape([p(0, 0), p(5_000, 5), p(10_000, 10)], box);
    expect(s.top).to.equal(10);
    expect(s.lines).to.deep.equal([{ index: 0, points: '0,20 50,10 100,0' }]);
    expect(s.areas).to.deep.equal(['0,20 50,10 100,0 100,20 0,20']);
    expect(s.latest).to.deep.equal({ x: 100, y: 0 });
  });

  it('breaks a line where a value was not known, draws a second line on the same scale, and clamps old points to the left edge', () => {
    const s = chartShape([p(-5_000, 2, 1), p(5_000, null, 1), p(10_000, 4, 2)], box);
    expect(s.top).to.equal(5);
    expect(s.lines).to.deep.equal([
      { index: 0, points: '0,12' }, { index: 0, points: '100,4' },
      { index: 1, points: '0,16 50,16 100,12' },
    ]);
    expect(chartShape([p(10_000, null)], box).latest).to.equal(null);
    expect(chartShape([], box)).to.deep.equal({ lines: [], areas: [], latest: null, top: 1 });
  });
});

describe('METRICS_TOKEN', () => {
  it('is none by default, and used as given when long enough', () => {
    expect(loadConfig({}).metricsToken).to.equal(null);
    expect(loadConfig({ METRICS_TOKEN: '  ' }).metricsToken).to.equal(null);
    expect(loadConfig({ METRICS_TOKEN: 'a'.repeat(32) }).metricsToken).to.equal('a'.repeat(32));
  });

  it('refuses a short token or one with spaces, without repeating it', () => {
    for (const token of ['short-secret', 'a'.repeat(31), `${'a'.repeat(20)} ${'b'.repeat(20)}`]) {
      expect(() => loadConfig({ METRICS_TOKEN: token }), token).to.throw(ConfigError, /^METRICS_TOKEN is not valid/);
      try {
        loadConfig({ METRICS_TOKEN: token });
      } catch (err) {
        expect((err as Error).message).to.not.include(token);
      }
    }
  });
});
