// Sender caps by room size: a full mesh uploads one copy of each video per other person.
//
// Every video sender's first encoding gets maxBitrate, scaleResolutionDownBy (from the track's
// real height) and maxFramerate through RTCRtpSender.setParameters — no renegotiation. The camera
// is also asked for no more than the largest copy (captureFor → applyConstraints), so one capture
// at the sent size feeds every encoder instead of each encoder scaling a 720p frame.
//
// Camera, per copy sent (people = everyone in the room, you included):
//   people   max bitrate   max height   max fps   your uplink for video at the top of the band
//   2        1500 kbps     720p         30        1.5 Mbps (1 copy)
//   3–4       800 kbps     540p         30        2.4 Mbps (3 copies)
//   5–6       250 kbps     180p         20        1.25 Mbps (5 copies)
//   7–12      200 kbps     180p         15        2.2 Mbps at 12 (11 copies)
// Screen share and video file, per copy, on top (screens keep full resolution and drop frames
// instead, so text stays legible; a video file is capped at 720p):
//   2: 2500 kbps · 3–4: 1500 kbps · 5–6: 900 kbps · 7+: 500 kbps; screens ≤ 15 fps, files ≤ 30 fps.
// So a 6-person call needs about 1.25 Mbps up per person (about 5.8 Mbps while sharing a
// screen), inside a typical Wi-Fi uplink; Opus audio adds ~40 kbps per copy. The 5–6 row was
// measured: six people in one browser on a 2-core machine hold 15+ fps at 320x180@20, while
// 240p (20 or 15 fps) settles at 14–15 fps there (scripts/bench/call.ts).

export type SendKind = 'camera' | 'screen' | 'file';

/** Cap — the limits for one sender. */
export interface Cap {
  maxBitrate: number;
  /** Frames are scaled down to at most this height; null keeps the source resolution. */
  maxHeight: number | null;
  maxFramerate: number;
}

const CAMERA: readonly [minPeople: number, cap: Cap][] = [
  [7, { maxBitrate: 200_000, maxHeight: 180, maxFramerate: 15 }],
  [5, { maxBitrate: 250_000, maxHeight: 180, maxFramerate: 20 }],
  [3, { maxBitrate: 800_000, maxHeight: 540, maxFramerate: 30 }],
  [0, { maxBitrate: 1_500_000, maxHeight: 720, maxFramerate: 30 }],
];

const SHARED: readonly [minPeople: number, maxBitrate: number][] = [
  [7, 500_000],
  [5, 900_000],
  [3, 1_500_000],
  [0, 2_500_000],
];

/** capFor — the cap for a sender of `kind` in a room of `people` (you included). */
export function capFor(kind: SendKind, people: number): Cap {
  if (kind === 'camera') return CAMERA.find(([min]) => people >= min)![1];
  const maxBitrate = SHARED.find(([min]) => people >= min)![1];
  return kind === 'screen' ? { maxBitrate, maxHeight: null, maxFramerate: 15 } : { maxBitrate, maxHeight: 720, maxFramerate: 30 };
}

/** captureFor — what the camera must deliver in a room of `people`: the camera cap's size and rate. */
export function captureFor(people: number): { height: number; frameRate: number } {
  const cap = capFor('camera', people);
  return { height: cap.maxHeight ?? 720, frameRate: cap.maxFramerate };
}

// setParameters must not overlap on one sender (each call needs the transactionId of the
// getParameters just before it), so calls per sender are chained.
const chains = new WeakMap<RTCRtpSender, Promise<void>>();

/** applyCap — sets the cap on a video sender; audio senders and senders without a track are skipped. */
export function applyCap(sender: RTCRtpSender, cap: Cap): Promise<void> {
  const next = (chains.get(sender) ?? Promise.resolve()).then(async () => {
    const track = sender.track;
    if (!track || track.kind !== 'video' || track.readyState === 'ended') return;
    const params = sender.getParameters();
    const enc = params.encodings?.[0];
    if (!enc) return; // not negotiated yet; applied again once it is
    const height = track.getSettings().height ?? 0;
    const scale = cap.maxHeight && height > cap.maxHeight ? height / cap.maxHeight : 1;
    if (enc.maxBitrate === cap.maxBitrate && enc.maxFramerate === cap.maxFramerate && (enc.scaleResolutionDownBy ?? 1) === scale) return;
    enc.maxBitrate = cap.maxBitrate;
    enc.maxFramerate = cap.maxFramerate;
    enc.scaleResolutionDownBy = scale;
    await sender.setParameters(params);
  }).catch((err: unknown) => {
    console.warn('could not cap a video sender', err);
  });
  chains.set(sender, next);
  return next;
}
