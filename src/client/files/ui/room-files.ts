// The room's "Shared in this room" panel: while in the call, a FilesEngine for the room's shares, Share in this room, the room's items (videos can be played to the call) and downloads.
import type { SharedItemView } from '../../../shared/protocol.js';
import type { RoomCall } from '../../call/lib/room-call.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { expose, workerUrl } from '../../shared/ui/page.js';
import { toast } from '../../shared/ui/toasts.js';
import { FilesEngine } from '../lib/files-engine.js';
import { DownloadList } from './download-list.js';
import { fileActions } from './file-actions.js';
import { ItemList } from './item-list.js';
import { streamSource } from './player.js';
import { renderPreparing, shareButton, shareDropZone } from './share-controls.js';

/** RoomFilesOptions — what the room island provides. */
export interface RoomFilesOptions {
  signaling: SignalingClient;
  slug: string;
  call: RoomCall;
  selfUserId: string;
  /** playToRoom — plays a shared video into the call (as Play a video file does); `release` when it stops. */
  playToRoom(source: { url: string; name: string; release(): void }): void;
}

const OUTSIDE = 'Join the call to share files with the people here and to see what they share.';

/**
 * mountRoomFiles — shows #room-files (server-rendered, hidden without JavaScript). Room shares are
 * seen only by tabs in the room's call: the engine starts at the first join and lives as long as the
 * page (what this tab shares comes back with it when it joins again); outside the call the panel says
 * how to take part. Returns the teardown.
 */
export function mountRoomFiles(page: HTMLElement, o: RoomFilesOptions): () => void {
  const panel = page.querySelector<HTMLElement>('#room-files');
  const actionsBox = panel?.querySelector<HTMLElement>('.room-files__actions');
  const list = panel?.querySelector<HTMLElement>('#room-files-list');
  const empty = panel?.querySelector<HTMLElement>('#room-files-empty');
  const downloadsList = panel?.querySelector<HTMLElement>('#room-downloads');
  const preparing = panel?.querySelector<HTMLElement>('#room-preparing');
  if (!panel || !actionsBox || !list || !empty || !downloadsList || !preparing) return () => {};
  panel.hidden = false;
  const parts = [actionsBox, list, downloadsList];

  let engine: FilesEngine | null = null;
  const offs: (() => void)[] = [];
  let inCall = false;
  // Until the server's first view arrives, "nothing shared" would be a guess.
  let listed = false;
  // After Download, the focus follows to the new row (the button it was on goes).
  let focusNext: string | null = null;
  let render = () => {};

  // The stream opens only once the worker controls the page: the call may have ended meanwhile.
  const playToRoom = (e: FilesEngine, item: SharedItemView) => streamSource(e, item).then((source) => {
    if (inCall) o.playToRoom(source);
    else source.release();
  }, (err: Error) => toast(err.message, 'error'));

  const start = (e: FilesEngine) => {
    const actions = fileActions(e, (id) => {
      focusNext = id;
    });
    actionsBox.replaceChildren(shareButton(e, 'files', 'Share in this room', 'btn btn--secondary btn--small'));
    const items = new ItemList({
      list, empty, selfUserId: o.selfUserId, actions, stop: actions.stopItem, playToRoom: (item) => playToRoom(e, item),
      emptyText: () => 'Nothing is shared in this room yet.',
    });
    const downloads = new DownloadList(downloadsList, actions, () => {});
    render = () => {
      const d = e.downloads();
      renderPreparing(preparing, inCall ? e.preparing() : []);
      downloads.render(d);
      // The engine also hears the lobby's view while this tab is out of the call: only the room's items count.
      if (inCall && listed) items.render(e.items().filter((i) => i.room === o.slug), '', new Map(d.map((x) => [x.id, x.state])));
      if (focusNext && downloads.focusActions(focusNext)) focusNext = null;
    };
    offs.push(
      e.on('changed', () => render()),
      e.on('error', (message) => toast(message, 'error')),
      o.signaling.on('files', () => {
        listed = true;
      }),
      shareDropZone(panel, e),
    );
    expose({ files: e });
    e.start();
  };

  const phase = (now: string) => {
    inCall = now === 'in-call';
    if (inCall && !engine) {
      engine = new FilesEngine(o.signaling, { room: o.slug, selfUserId: o.selfUserId, diskUrl: workerUrl('opfs-writer') });
      empty.textContent = 'Looking for what people share here…';
      start(engine);
    }
    for (const part of parts) part.hidden = !inCall;
    if (!inCall) {
      empty.textContent = OUTSIDE;
      empty.hidden = false;
    }
    render();
  };
  offs.push(o.call.on('phase-changed', (change) => phase(change.phase)));
  phase(o.call.phase);
  return () => {
    for (const off of offs) off();
    engine?.dispose();
  };
}
