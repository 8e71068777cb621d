import { expect } from 'chai';
import { capFor, captureFor } from '../../src/client/call/lib/bitrate.js';
import { withOpusDtx } from '../../src/client/call/lib/media-link.js';
import { loudness, SpeakerDetector } from '../../src/client/call/lib/speaker.js';

describe('call logic (no browser)', () => {
  describe('capFor', () => {
    const table: [number, number, number | null, number][] = [
      [2, 1_500_000, 720, 30],
      [3, 800_000, 540, 30],
      [4, 800_000, 540, 30],
      [5, 250_000, 180, 20],
      [6, 250_000, 180, 20],
      [7, 200_000, 180, 15],
      [12, 200_000, 180, 15],
    ];
    for (const [people, bitrate, height, fps] of table) {
      it(`caps a camera in a room of ${people} at ${bitrate / 1000} kbps, ${height}p, ${fps} fps`, () => {
        expect(capFor('camera', people)).to.deep.equal({ maxBitrate: bitrate, maxHeight: height, maxFramerate: fps });
        expect(captureFor(people)).to.deep.equal({ height, frameRate: fps });
      });
    }
    it('keeps screens at full resolution and gives them more bits than a camera', () => {
      for (const n of [2, 4, 6, 8]) {
        const screen = capFor('screen', n);
        expect(screen.maxHeight).to.equal(null);
        expect(screen.maxBitrate).to.be.greaterThan(capFor('camera', n).maxBitrate);
        expect(capFor('file', n).maxHeight).to.equal(720);
      }
    });
  });

  describe('withOpusDtx', () => {
    const sdp = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', ''].join('\r\n');
    it('asks for DTX on the Opus payload only, keeping CRLF line ends', () => {
      const out = withOpusDtx(sdp);
      expect(out).to.include('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n');
      expect(out).to.include('a=fmtp:63 111/111\r\n');
      expect(out.split('\r\n')).to.have.length(sdp.split('\r\n').length);
    });
    it('is idempotent and leaves an explicit choice alone', () => {
      expect(withOpusDtx(withOpusDtx(sdp))).to.equal(withOpusDtx(sdp));
      const off = sdp.replace('useinbandfec=1', 'useinbandfec=1;usedtx=0');
      expect(withOpusDtx(off)).to.equal(off);
    });
  });

  describe('SpeakerDetector', () => {
    it('picks the loudest voice above the threshold and holds it through short pauses', () => {
      const seen: (string | null)[] = [];
      const d = new SpeakerDetector(() => new Map(), (k) => seen.push(k), { threshold: 0.45, holdMs: 1_000 });
      const at = (t: number, levels: Record<string, number>) => d.tick(new Map(Object.entries(levels)), t);
      at(0, { a: 0.1, b: 0.2 });
      expect(seen).to.deep.equal([]);
      at(200, { a: 0.8, b: 0.2 });
      expect(seen).to.deep.equal(['a']);
      at(400, { a: 0.3, b: 0.7 }); // a pauses: still held (its level decays slowly)
      expect(seen).to.deep.equal(['a']);
      at(1_600, { a: 0.1, b: 0.7 });
      at(1_800, { a: 0.1, b: 0.7 });
      expect(seen).to.deep.equal(['a', 'b']);
      for (let t = 2_000; t < 4_000; t += 200) at(t, { a: 0, b: 0 });
      expect(seen).to.deep.equal(['a', 'b', null]);
    });
    it('maps linear levels onto a -60..0 dB scale', () => {
      expect(loudness(0)).to.equal(0);
      expect(loudness(1)).to.equal(1);
      expect(loudness(0.001)).to.be.closeTo(0, 1e-9);
      expect(loudness(0.1)).to.be.closeTo(2 / 3, 1e-9);
    });
  });
});
