// The stream service worker's reading of Range headers, stream paths and media types (src/client/files/lib/stream-bridge.ts).
import { expect } from 'chai';
import { parseRange, STREAM_PIECE, streamPath, streamType } from '../../src/client/files/lib/stream-bridge.js';
import { SHARE_CHUNK } from '../../src/shared/shares.js';

describe('stream: Range headers', () => {
  const size = 1000;
  const cases: [string | null, ReturnType<typeof parseRange>][] = [
    [null, null],
    ['bytes=0-', { start: 0, end: 1000 }],
    ['bytes=0-99', { start: 0, end: 100 }],
    ['bytes=990-2000', { start: 990, end: 1000 }],
    ['bytes=999-999', { start: 999, end: 1000 }],
    ['bytes=-10', { start: 990, end: 1000 }],
    ['bytes=-5000', { start: 0, end: 1000 }],
    ['bytes=100-199, 300-399', { start: 100, end: 200 }],
    ['Bytes=5-9', { start: 5, end: 10 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=1000-1001', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    // Nothing to honour: the whole file.
    ['bytes=9-5', null],
    ['bytes=-', null],
    ['items=0-5', null],
    ['bytes=a-b', null],
    ['bytes=99999999999999999999-', null],
  ];
  for (const [header, want] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(want)}`, () => expect(parseRange(header, size)).to.deep.equal(want));
  }
});

describe('stream: paths and types', () => {
  const sha = 'a1'.repeat(32);

  it('asks for pieces on the shared files\' chunk boundaries', () => expect(STREAM_PIECE).to.equal(SHARE_CHUNK));

  it('answers /files/stream/<sha256> only', () => {
    expect(streamPath(`/files/stream/${sha}`)).to.equal(sha);
    for (const p of [`/files/stream/${sha}/x`, `/files/stream/${sha.toUpperCase()}`, `/files/stream/${sha.slice(1)}`, '/files/stream/', `/r/x/files/stream/${sha}`, `/files/stream/../${sha}`]) {
      expect(streamPath(p), p).to.equal(null);
    }
  });

  it('answers with a video or audio type from the URL, else as bytes', () => {
    expect(streamType('video/mp4')).to.equal('video/mp4');
    expect(streamType('Video/WebM')).to.equal('video/webm');
    expect(streamType('audio/ogg')).to.equal('audio/ogg');
    for (const t of [null, '', 'text/html', 'image/svg+xml', 'application/javascript', 'video/mp4; codecs=x', 'video/mp4\r\nX-Evil: 1', `video/${'a'.repeat(200)}`]) {
      expect(streamType(t), String(t)).to.equal('application/octet-stream');
    }
  });
});
