// The room's "Shared in this room" panel: while in the call, a FilesEngine for the room's shares, Share in this room, the room's items and downloads.
import type { RoomCall } from '../../call/lib/room-call.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { expose, workerUrl } from '../../shared/ui/page.js';
import { toast } from '../../shared/ui/toasts.js';
import { FilesEngine } from '../lib/files-engine.js';
import { DownloadList } from './download-list.js';
import { fileActions } from './file-actions.js';
import { ItemList } from './item-list.js';
import { renderPreparing, shareButton, shareDropZone } from './share-controls.js';

/** RoomFilesOptions — what the room island provides. */
export interface RoomFilesOptions {
  signaling: SignalingClient;
  slug: string;
  call: RoomCall;
  selfUserId: string;
}

const OUTSIDE = 'Join the call to share files with the people here and to see what they share.';

/**
 * mountRoomFiles — shows #room-files (server-rendered, hidden without JavaScript). Room shares are
 * seen only by tabs in the room's call, so the engine runs from joining to leaving; returns the teardown.
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

  let running: { engine: FilesEngine; dispose(): void } | null = null;
  const start = () => {
    if (running) return;
    const engine = new FilesEngine(o.signaling, { room: o.slug, selfUserId: o.selfUserId, diskUrl: workerUrl('opfs-writer') });
    // After Download, the focus follows to the new row (the button it was on goes).
    let focusNext: string | null = null;
    const actions = fileActions(engine, (id) => {
      focusNext = id;
    });
    actionsBox.replaceChildren(shareButton(engine, 'files', 'Share in this room', 'btn btn--secondary btn--small'));
    const items = new ItemList({
      list, empty, selfUserId: o.selfUserId, actions, stop: actions.stopItem,
      emptyText: () => 'Nothing is shared in this room yet.',
    });
    const downloads = new DownloadList(downloadsList, actions, () => {});
    // Until the server's first view arrives, "nothing shared" would be a guess.
    let listed = false;
    empty.textContent = 'Looking for what people share here…';
    const render = () => {
      const d = engine.downloads();
      renderPreparing(preparing, engine.preparing());
      downloads.render(d);
      if (listed) items.render(engine.items(), '', new Map(d.map((x) => [x.id, x.state])));
      if (focusNext && downloads.focusActions(focusNext)) focusNext = null;
    };
    const offs = [
      engine.on('changed', render),
      engine.on('error', (message) => toast(message, 'error')),
      o.signaling.on('files', () => {
        listed = true;
      }),
      shareDropZone(panel, engine),
    ];
    expose({ files: engine });
    engine.start();
    render();
    running = {
      engine,
      dispose() {
        for (const off of offs) off();
        engine.dispose();
      },
    };
  };
  const stop = () => {
    running?.dispose();
    running = null;
    actionsBox.replaceChildren();
    list.replaceChildren();
    downloadsList.replaceChildren();
    preparing.replaceChildren();
    preparing.hidden = true;
    empty.textContent = OUTSIDE;
    empty.hidden = false;
  };
  const off = o.call.on('phase-changed', ({ phase }) => (phase === 'in-call' ? start() : stop()));
  if (o.call.phase === 'in-call') start();
  else stop();
  return () => {
    off();
    running?.dispose();
    running = null;
  };
}
