import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Bitmap, chunkCount, chunkLength, validRanges } from '../../src/client/transfer/lib/bitmap.js';
import { displayFileName, safeFileName } from '../../src/client/transfer/lib/filename.js';
import { parseChannel, parseRtc, parseSignal, randomId, rtcData } from '../../src/client/transfer/lib/messages.js';
import { OfferInbox, type InboxLimits } from '../../src/client/transfer/lib/offer-inbox.js';
import { FileSource } from '../../src/client/transfer/lib/source.js';

describe('transfer: safeFileName', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'report.pdf'],
    ['résumé 山田 🎉.txt', 'résumé 山田 🎉.txt'],
    ['../x', '_x'],
    ['a/b', 'a_b'],
    ['..\\..\\boot.ini', '_.._boot.ini'],
    ['/etc/passwd', '_etc_passwd'],
    ['.bashrc', '_bashrc'],
    ['...', 'file'],
    ['', 'file'],
    ['CON.txt', '_CON.txt'],
    ['nul', '_nul'],
    ['a:b*c?"d"<e>|f', 'a_b_c__d__e__f'],
    ['evil\u202etxt.exe', 'eviltxt.exe'],
    ['tab\there\nnewline', 'tabherenewline'],
    ['  spaced.txt  ', 'spaced.txt'],
    ['trailing.', 'trailing'],
    ['e\u0301', 'é'],
  ];
  for (const [raw, safe] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(safe)}`, () => expect(safeFileName(raw)).to.equal(safe));
  }

  it('keeps names within 200 UTF-8 bytes, the extension and whole characters intact', () => {
    const long = `${'日本'.repeat(100)}.pdf`;
    const safe = safeFileName(long);
    expect(new TextEncoder().encode(safe).length).to.be.at.most(200);
    expect(safe.endsWith('.pdf')).to.equal(true);
    expect(safe).to.not.include('\ufffd');
  });

  it('displayFileName strips only invisible characters', () => {
    expect(displayFileName('a/b\u200b.txt')).to.equal('a/b.txt');
  });

  // The shared unsafe-text rule (src/shared/text.ts), the same one display and room names follow.
  const shown: [string, string][] = [
    ['report\u202efdp.exe', 'reportfdp.exe'],
    ['\u2066invoice\u2069.pdf', 'invoice.pdf'],
    ['Ad\u200dmin.txt', 'Admin.txt'],
    ['line\u2028break.txt', 'linebreak.txt'],
    ['tag\u{e0041}\u{e0042}.txt', 'tag.txt'],
    ['soft\u00adhyphen.txt', 'softhyphen.txt'],
    ['report.pdf                                        .exe', 'report.pdf .exe'],
    ['👩\u200d💻.png', '👩\u200d💻.png'],
    ['\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt', '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt'],
    ['\u200b\u202e', 'file'],
  ];
  for (const [raw, out] of shown) {
    it(`displayFileName ${JSON.stringify(raw)} → ${JSON.stringify(out)}`, () => expect(displayFileName(raw)).to.equal(out));
  }
});

describe('transfer: offers waiting for an answer', () => {
  const limits: InboxLimits = { perSender: 3, total: 12, answers: 10, answerRefillMs: 1_000 };
  const person = (n: number) => ({ userId: `user-${n}`, displayName: `Person ${n}` });
  let seq = 0;
  const offer = (sender: number, offerId = randomId()) => ({ id: `local-${++seq}`, offerId, sender: person(sender) });

  it('queues three offers per person; the fourth is refused with one warning, the rest quietly', () => {
    const inbox = new OfferInbox(limits);
    for (let i = 0; i < 3; i++) expect(inbox.admit(offer(1), 0)).to.deep.equal({ admitted: true });
    expect(inbox.admit(offer(1), 0)).to.deep.equal({ admitted: false, reason: 'sender', answer: true, warn: true });
    expect(inbox.admit(offer(1), 0)).to.deep.equal({ admitted: false, reason: 'sender', answer: true, warn: false });
    expect(inbox.size).to.equal(3);
    // Someone else is not held up by the first person's flood.
    expect(inbox.admit(offer(2), 0).admitted).to.equal(true);
  });

  it('warns again only after the person has been answered and floods again', () => {
    const inbox = new OfferInbox(limits);
    const first = offer(1);
    for (const o of [first, offer(1), offer(1)]) inbox.admit(o, 0);
    expect(inbox.admit(offer(1), 0)).to.include({ warn: true });
    expect(inbox.remove(first.id)).to.equal(first);
    expect(inbox.admit(offer(1), 0).admitted).to.equal(true);
    expect(inbox.admit(offer(1), 0)).to.include({ warn: true });
    expect(inbox.admit(offer(1), 0)).to.include({ warn: false });
  });

  it('caps all pending offers together, warning once', () => {
    const inbox = new OfferInbox(limits);
    for (let p = 0; p < 4; p++) for (let i = 0; i < 3; i++) expect(inbox.admit(offer(p), 0).admitted).to.equal(true);
    expect(inbox.admit(offer(9), 0)).to.deep.equal({ admitted: false, reason: 'total', answer: true, warn: true });
    expect(inbox.admit(offer(10), 0)).to.include({ reason: 'total', warn: false });
    expect(inbox.size).to.equal(12);
  });

  it('answers refusals from a budget, so a flood cannot make this tab flood its own socket', () => {
    const inbox = new OfferInbox(limits);
    for (let i = 0; i < 3; i++) inbox.admit(offer(1), 0);
    const answered = Array.from({ length: 50 }, () => inbox.admit(offer(1), 0)).filter((a) => !a.admitted && a.answer).length;
    expect(answered).to.equal(10);
    expect(inbox.admit(offer(1), 2_500)).to.include({ answer: true });
    expect(inbox.admit(offer(1), 2_500)).to.include({ answer: true });
    expect(inbox.admit(offer(1), 2_500)).to.include({ answer: false });
  });

  it('tells apart two people who use the same offer id', () => {
    const inbox = new OfferInbox(limits);
    const a = offer(1, 'same-offer-id');
    const b = offer(2, 'same-offer-id');
    inbox.admit(a, 0);
    inbox.admit(b, 0);
    expect(inbox.find('user-1', 'same-offer-id')).to.equal(a);
    expect(inbox.find('user-2', 'same-offer-id')).to.equal(b);
    expect(inbox.list()).to.deep.equal([a, b]);
  });
});

describe('transfer: Bitmap', () => {
  it('tracks chunks and lists the missing ranges', () => {
    const b = new Bitmap(20);
    for (const i of [0, 1, 2, 5, 6, 19]) b.set(i);
    expect(b.count).to.equal(6);
    expect(b.missing(10)).to.deep.equal({ ranges: [[3, 5], [7, 19]], more: false });
    expect(b.missing(1)).to.deep.equal({ ranges: [[3, 5]], more: true });
    expect(b.set(5)).to.equal(false);
    expect(b.set(20)).to.equal(false);
  });

  it('restores from stored bytes, ignoring bits past its size', () => {
    const b = new Bitmap(10, new Uint8Array([0xff, 0xff]));
    expect(b.count).to.equal(10);
    expect(b.complete).to.equal(true);
    expect(b.missing(5).ranges).to.deep.equal([]);
  });

  it('handles an empty file (no chunks)', () => {
    const b = new Bitmap(0);
    expect(b.complete).to.equal(true);
    expect(b.missing(5)).to.deep.equal({ ranges: [], more: false });
  });

  it('chunk geometry: count and the short last chunk', () => {
    expect(chunkCount(0, 256)).to.equal(0);
    expect(chunkCount(512, 256)).to.equal(2);
    expect(chunkCount(513, 256)).to.equal(3);
    expect(chunkLength(2, 513, 256)).to.equal(1);
  });

  const ranges: [string, [number, number][], boolean][] = [
    ['sorted, disjoint', [[0, 2], [4, 5]], true],
    ['empty', [], true],
    ['overlapping', [[0, 3], [2, 5]], false],
    ['unsorted', [[4, 5], [0, 2]], false],
    ['empty range', [[3, 3]], false],
    ['past the end', [[8, 11]], false],
  ];
  for (const [name, r, ok] of ranges) it(`validRanges: ${name}`, () => expect(validRanges(r, 10)).to.equal(ok));
});

describe('transfer: messages from peers', () => {
  const id = randomId();
  const file = { id: randomId(), name: 'x.bin', size: 10, chunkSize: 262144 };
  const signals: [string, unknown, boolean][] = [
    ['an offer', { t: 'offer', offerId: id, files: [file] }, true],
    ['an offer without files', { t: 'offer', offerId: id, files: [] }, false],
    ['an offer with duplicate file ids', { t: 'offer', offerId: id, files: [file, file] }, false],
    ['an offer with a negative size', { t: 'offer', offerId: id, files: [{ ...file, size: -1 }] }, false],
    ['an offer with a fractional size', { t: 'offer', offerId: id, files: [{ ...file, size: 1.5 }] }, false],
    ['an offer of more than 1 TiB', { t: 'offer', offerId: id, files: [{ ...file, size: 2 ** 41 }] }, false],
    ['an offer with a tiny chunk size', { t: 'offer', offerId: id, files: [{ ...file, chunkSize: 100 }] }, false],
    ['an offer with a 256-character name', { t: 'offer', offerId: id, files: [{ ...file, name: 'a'.repeat(256) }] }, false],
    ['an offer with an extra field', { t: 'offer', offerId: id, files: [file], from: 'admin' }, false],
    ['65 files', { t: 'offer', offerId: id, files: Array.from({ length: 65 }, () => ({ ...file, id: randomId() })) }, false],
    ['accept', { t: 'accept', offerId: id }, true],
    ['accept with a bad id', { t: 'accept', offerId: '../../x' }, false],
    ['resume', { t: 'resume', ids: [id] }, true],
    ['resume of nothing', { t: 'resume', ids: [] }, false],
    ['cancel, failed', { t: 'cancel', ids: [id], reason: 'failed' }, true],
    ['an unknown kind', { t: 'delete-everything' }, false],
    ['not an object', 'offer', false],
  ];
  for (const [name, data, ok] of signals) it(`signal: ${name} is ${ok ? 'accepted' : 'refused'}`, () => expect(parseSignal(data) !== null).to.equal(ok));

  const hash = 'a'.repeat(64);
  const channel: [string, string, boolean][] = [
    ['a chunk header', JSON.stringify({ t: 'c', i: 3, h: hash }), true],
    ['a chunk header with an uppercase hash', JSON.stringify({ t: 'c', i: 3, h: hash.toUpperCase() }), false],
    ['an ack of several chunks', JSON.stringify({ t: 'ack', i: [1, 2, 3] }), true],
    ['an ack with a negative index', JSON.stringify({ t: 'ack', i: [-1] }), false],
    ['an empty ack', JSON.stringify({ t: 'ack', i: [] }), false],
    ['a nack of one chunk', JSON.stringify({ t: 'nack', i: 7 }), true],
    ['need', JSON.stringify({ t: 'need', r: [[0, 4]], more: false }), true],
    ['need with a malformed range', JSON.stringify({ t: 'need', r: [[0]], more: false }), false],
    ['need with 1,025 ranges', JSON.stringify({ t: 'need', r: Array.from({ length: 1025 }, (_, i) => [2 * i, 2 * i + 1]), more: true }), false],
    ['end', JSON.stringify({ t: 'end', sha256: hash }), true],
    ['ping', JSON.stringify({ t: 'ping' }), true],
    ['not JSON', '{t:', false],
  ];
  for (const [name, text, ok] of channel) it(`channel: ${name} is ${ok ? 'accepted' : 'refused'}`, () => expect(parseChannel(text) !== null).to.equal(ok));

  it('lobby negotiation messages: descriptions and candidates only', () => {
    expect(parseRtc({ k: 'sdp', pc: id, sdp: { type: 'offer', sdp: 'v=0' } })).to.not.equal(null);
    expect(parseRtc({ k: 'sdp', pc: id, sdp: { type: 'rollback', sdp: '' } })).to.equal(null);
    expect(parseRtc({ k: 'cand', pc: id, cand: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } })).to.not.equal(null);
    expect(parseRtc({ k: 'cand', pc: id, cand: { candidate: 'candidate:1', sdpMid: '0', extra: 1 } })).to.equal(null);
    expect(parseRtc({ k: 'sdp', pc: id, sdp: { type: 'offer', sdp: 'x'.repeat(70_000) } })).to.equal(null);
  });

  it('wraps a PeerLink\'s description or candidate in a transfer-rtc message and reads it back', () => {
    const pc = randomId();
    const description = { kind: 'description' as const, description: { type: 'answer' as const, sdp: 'v=0' } };
    const candidate = { kind: 'candidate' as const, candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' } };
    expect(rtcData(pc, description)).to.deep.equal({ k: 'sdp', pc, sdp: { type: 'answer', sdp: 'v=0' } });
    expect(parseRtc(rtcData(pc, description))).to.deep.equal({ pc, payload: description });
    expect(parseRtc(rtcData(pc, candidate))).to.deep.equal({ pc, payload: candidate });
  });

  it('randomId makes URL-safe 16-character ids', () => {
    expect(randomId()).to.match(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('transfer: FileSource hashes ahead of sending', () => {
  const CHUNK = 16 * 1024;
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  /** A File whose contents can be swapped after it was read once (as a file edited on disk). */
  class EditedFile extends File {
    edited: Blob | null = null;
    override slice(start?: number, end?: number, type?: string): Blob {
      return this.edited ? this.edited.slice(start, end, type) : super.slice(start, end, type);
    }
  }

  it('prehash covers the whole file: sending then returns the same chunk hashes and the whole-file SHA-256', async () => {
    const data = bytes(5 * CHUNK + 123, 1);
    const src = await FileSource.create(new File([data], 'a.bin'), CHUNK);
    expect(src.hashedBytes).to.equal(0);
    await src.prehash();
    expect(src.hashedBytes).to.equal(data.length);
    for (let i = 0; i < src.count; i++) {
      const { hash, data: got } = await src.chunk(i);
      const want = data.subarray(i * CHUNK, Math.min(data.length, (i + 1) * CHUNK));
      expect(hash).to.equal(sha(want));
      expect(Buffer.from(got).equals(Buffer.from(want))).to.equal(true);
    }
    expect(await src.finish()).to.equal(sha(data));
  });

  it('a prehash stopped part-way leaves the rest to sending, and the hash is still the whole file', async () => {
    const data = bytes(40 * CHUNK, 2);
    const src = await FileSource.create(new File([data], 'b.bin'), CHUNK);
    const run = src.prehash();
    src.stopPrehash();
    await run;
    expect(src.hashedBytes).to.be.below(data.length);
    for (let i = 0; i < src.count; i++) expect((await src.chunk(i)).hash).to.equal(sha(data.subarray(i * CHUNK, (i + 1) * CHUNK)));
    expect(await src.finish()).to.equal(sha(data));
  });

  it('a chunk the receiver rejects is hashed again before it is resent: a file edited since is caught', async () => {
    const data = bytes(4 * CHUNK, 3);
    const file = new EditedFile([data], 'c.bin');
    const src = await FileSource.create(file, CHUNK);
    await src.prehash();
    const edited = data.slice();
    edited[2 * CHUNK + 5]! ^= 0xff;
    file.edited = new Blob([edited]);
    // Trusted hashes are not recomputed on send, so the edited bytes go out under the old hash…
    expect((await src.chunk(2)).hash).to.equal(sha(data.subarray(2 * CHUNK, 3 * CHUNK)));
    // …the receiver's check rejects them, and the resend finds the file changed.
    src.distrust(2);
    let err: Error | null = null;
    await src.chunk(2).catch((e: Error) => (err = e));
    expect(err).to.have.property('name', 'FileChangedError');
  });

  it('hashes an earlier page recorded are checked, never trusted: a different file is refused after a reload', async () => {
    const data = bytes(3 * CHUNK, 4);
    const first = await FileSource.create(new File([data], 'd.bin'), CHUNK);
    await first.prehash();
    const other = data.slice();
    other[7]! ^= 1;
    const again = await FileSource.create(new File([other], 'd.bin'), CHUNK, first.hashes, first.hashedPrefix);
    expect(await again.verifyKnown()).to.equal(false);
    const same = await FileSource.create(new File([data], 'd.bin'), CHUNK, first.hashes, first.hashedPrefix);
    expect(await same.verifyKnown()).to.equal(true);
    expect(await same.finish()).to.equal(sha(data));
  });
});
