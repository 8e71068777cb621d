// The player for a shared video: a dialog with a <video> that streams from the file's holders through
// the stream service worker (only the ranges it asks for); closing it stops fetching and forgets the bytes.
import type { SharedItemView } from '../../../shared/protocol.js';
import type { FilesEngine } from '../lib/files-engine.js';
import { StreamBridge } from '../lib/stream-bridge.js';
import { displayFileName } from '../../transfer/lib/filename.js';
import { h } from '../../shared/ui/dom.js';

type RangeSource = Pick<FilesEngine, 'readRange' | 'stopStream'>;
type SharedFile = SharedItemView['files'][number];

/** One bridge per page and engine: the worker's asks reach the engine that plays. */
let bridge: { source: RangeSource; bridge: StreamBridge } | null = null;
/** The open player (one at a time). */
let current: { close(): void } | null = null;

/** streamScope — the service worker's scope for this page: it must cover the page, and no more than needed. */
function streamScope(): string {
  return location.pathname.startsWith('/r/') ? '/r/' : '/files';
}

function bridgeFor(source: RangeSource): StreamBridge {
  if (bridge?.source !== source) {
    bridge?.bridge.dispose();
    bridge = { source, bridge: new StreamBridge(source, streamScope()) };
  }
  return bridge.bridge;
}

/**
 * openPlayer — plays `file` (by default the item's only file) of a shared item in a dialog, fetching
 * only what the video element asks for. Close player or Escape closes it; nothing is kept.
 */
export function openPlayer(engine: RangeSource, item: SharedItemView, file: SharedFile | undefined = item.files[0]): void {
  current?.close();
  if (!file) return;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  // Shown by the one unsafe-text rule (no bidi overrides or invisible characters), as in the lists.
  const name = displayFileName(item.kind === 'file' ? item.name : `${item.name}/${file.path}`);
  const headingId = `player-heading-${file.sha256.slice(0, 12)}`;
  const video = h('video', { class: 'player-dialog__video', controls: true, playsinline: true, preload: 'metadata', 'aria-label': name });
  const problem = h('p', { class: 'player-dialog__problem', role: 'alert', hidden: true });
  const say = (text: string) => {
    problem.textContent = text;
    problem.hidden = false;
  };
  const closeButton = h('button', { class: 'btn btn--secondary', type: 'button' }, 'Close player');
  const dialog = h('dialog', { class: 'modal player-dialog', 'aria-labelledby': headingId },
    h('h2', { id: headingId, class: 'modal__title player-dialog__title' }, name),
    video,
    problem,
    h('div', { class: 'modal__actions' }, closeButton));

  let handle: { close(): void } | null = null;
  let closed = false;
  const player = {
    close() {
      if (closed) return;
      closed = true;
      if (current === player) current = null;
      // Without a source the element lets go of its requests (the worker's streams are cancelled).
      video.pause();
      video.removeAttribute('src');
      video.load();
      // The last handle of a file lets go of its holders (the call may still play it).
      handle?.close();
      handle = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (opener?.isConnected) opener.focus();
    },
  };
  current = player;
  closeButton.addEventListener('click', () => player.close());
  // Escape (the dialog's cancel) and any other way the dialog closes end the player too.
  dialog.addEventListener('close', () => player.close());
  video.addEventListener('error', () => {
    if (!closed) say('This video cannot be played in this browser. Download it to watch it.');
  });
  document.body.append(dialog);
  dialog.showModal();
  closeButton.focus();

  if (!StreamBridge.supported) {
    say('Playing needs a secure connection to Hearth. Download the video to watch it.');
    return;
  }
  const b = bridgeFor(engine);
  b.ready().then(() => {
    if (closed) return;
    const opened = b.open(file);
    handle = opened;
    video.src = opened.url;
    video.play().catch(() => undefined); // autoplay may be refused; the controls remain
  }, (err: Error) => {
    if (!closed) say(err.message);
  });
}

/**
 * streamSource — `file` (by default the item's only file) of a shared video as a stream URL for
 * another element (the call plays it to the room): it fetches only what that element asks for, from
 * the holders; `release` stops fetching and forgets the bytes.
 */
export async function streamSource(engine: RangeSource, item: SharedItemView, file: SharedFile | undefined = item.files[0]): Promise<{ url: string; name: string; release(): void }> {
  if (!file) throw new Error('There is no video to play in this item.');
  if (!StreamBridge.supported) throw new Error('Playing needs a secure connection to Hearth. Download the video to watch it.');
  const b = bridgeFor(engine);
  await b.ready();
  const handle = b.open(file);
  let released = false;
  return {
    url: handle.url,
    name: displayFileName(item.kind === 'file' ? item.name : `${item.name}/${file.path}`),
    release() {
      if (released) return;
      released = true;
      handle.close();
    },
  };
}
