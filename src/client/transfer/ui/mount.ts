// Mounts file transfer on a page: the lobby (its own data-only connections) or a room (the call's connections).
import { Disk } from '../lib/disk.js';
import { LobbyDirectory, RoomDirectory, type RoomMember } from '../lib/directory.js';
import { LobbyLinks } from '../lib/lobby-links.js';
import { TransferManager } from '../lib/manager.js';
import { RTC_APP, TRANSFER_APP } from '../lib/messages.js';
import { RoomLinks, type PeerConnectionSource } from '../lib/room-links.js';
import { TransferStore } from '../lib/store.js';
import type { ChannelTransport, Directory, LedgerPost, Person, SignalPort } from '../lib/transport.js';
import { followLobby } from '../../shared/lib/lobby-feed.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { h, icon } from '../../shared/ui/dom.js';
import { expose } from '../../shared/ui/page.js';
import type { LobbyLists } from '../../lobby/ui/lobby-lists.js';
import { OffersPanel } from './offers-panel.js';
import { chooseFiles, dropTarget } from './pick-files.js';
import { openRoomSendDialog } from './send-dialog.js';
import { downloadReceived, saveReceivedAs, savePicker } from './save-file.js';
import { TransferPanel } from './transfer-panel.js';
import { toast } from '../../shared/ui/toasts.js';

export type { PeerConnectionSource } from '../lib/room-links.js';
export type { RoomMember } from '../lib/directory.js';

declare global {
  interface HearthHandle {
    transfers?: TransferManager;
  }
}

/** TransfersHandle — `ready` resolves once stored transfers are restored; `dispose` unmounts. */
export interface TransfersHandle {
  ready: Promise<TransferManager>;
  dispose(): void;
}

// Rows re-render at most this often: enough for a live bar, cheap beside the transfer itself.
const RENDER_MS = 500;

/**
 * mountLobbyTransfers — adds "Send file to <name>" to every other person in the lobby who has
 * a tab in the lobby, accepts files dropped on them, and shows offers and progress.
 */
export function mountLobbyTransfers({ signaling, view }: { signaling: SignalingClient; view: LobbyLists }): TransfersHandle {
  let ice: RTCIceServer[] = [];
  let manager: TransferManager | null = null;
  const links = new LobbyLinks({
    send: (to, data) => void signaling.sendSignal(to, { kind: 'app', app: RTC_APP, data }),
    selfPeerId: () => signaling.peerId,
    iceServers: () => ice,
    // Nobody may make this browser build a connection (and reveal its addresses) before a transfer is accepted.
    accepts: (peerId) => manager?.acceptsConnection(peerId) ?? false,
  });
  const directory = new LobbyDirectory();
  const offs = [
    signaling.on('welcome', (m) => (ice = m.iceServers as RTCIceServer[])),
    followLobby(signaling, (m) => directory.update(m.online)),
    signaling.on('signal', (m) => {
      if (m.payload.kind === 'app' && m.payload.app === RTC_APP) links.handle(m.from, m.payload.data);
    }),
  ];
  // Closing our connections as the page goes tells the other side at once (SCTP abort), instead
  // of after its keepalive runs out.
  const bye = () => links.drop();
  addEventListener('pagehide', bye);
  const root = document.querySelector<HTMLElement>('[data-island="lobby"]') ?? document.body;
  const mounted = start({ signaling, channels: links, directory, scope: 'lobby', place: (panel) => {
    const grid = root.querySelector('.lobby-grid');
    if (grid) grid.before(panel);
    else root.append(panel);
  } });
  void mounted.ready.then((m) => (manager = m));

  const send = (files: File[], person: Person) => void mounted.ready.then((m) => m.send(files, person));
  view.personActions.push((entry, container) => {
    // Only tabs in the lobby may signal each other: someone in a room is not reachable from here.
    if (!entry.lobbyPeers.length) return;
    const person = { userId: entry.userId, displayName: entry.displayName };
    // An icon button (the row is narrow); the name says it all, the tooltip mentions dropping.
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--small transfer-send', 'aria-label': `Send file to ${entry.displayName}`, title: `Send file to ${entry.displayName} (or drop files on this row)` },
      icon('paperclip'));
    btn.addEventListener('click', async () => {
      const files = await chooseFiles();
      if (files.length) send(files, person);
    });
    container.append(btn);
    // The row is assembled around `container` right after this hook runs.
    queueMicrotask(() => {
      const li = container.closest<HTMLElement>('li');
      if (li) dropTarget(li, (files) => send(files, person));
    });
  });
  return { ready: mounted.ready, dispose: () => {
    for (const off of offs) off();
    removeEventListener('pagehide', bye);
    mounted.dispose();
    links.drop();
  } };
}

/** RoomTransfersOptions — what the room island provides. */
export interface RoomTransfersOptions {
  signaling: SignalingClient;
  /** The call's connections (Mesh: `{ connection: (id) => mesh.connection(id), onConnection: (fn) => mesh.on('connection', fn) }`). */
  connections: PeerConnectionSource;
  /** The other tabs in the call now (not this one), with their user ids. */
  members(): RoomMember[];
  /** Where the Send file button and the transfers panel go. */
  root: HTMLElement;
  slug: string;
  /** Files dropped here open the Send dialog (default: `root`). */
  dropZone?: HTMLElement;
}

/**
 * mountRoomTransfers — Send file (to one member or everyone) over the call's own connections;
 * every transfer is recorded in the room's chat (the ledger).
 */
export function mountRoomTransfers(o: RoomTransfersOptions): TransfersHandle {
  const directory = new RoomDirectory(o.members);
  // After the room island has updated its roster for the same message.
  const changed = () => setTimeout(() => directory.changed(), 0);
  const offs = (['welcome', 'joined', 'peer-joined', 'peer-left'] as const).map((t) => o.signaling.on(t, changed));
  const links = new RoomLinks(o.connections, () => o.members().map((m) => m.peerId));
  const ledger: LedgerPost = (e) => void o.signaling.sendLedger(e);
  const selfUserId = currentUserId();
  const box = h('div', { class: 'transfer-room' });
  const mounted = start({ signaling: o.signaling, channels: links, directory, scope: `room:${o.slug}`, ledger, place: (panel) => box.append(panel) });

  const people = (): Person[] => {
    const seen = new Map<string, Person>();
    for (const m of o.members()) if (m.userId !== selfUserId && !seen.has(m.userId)) seen.set(m.userId, { userId: m.userId, displayName: m.displayName });
    return [...seen.values()];
  };
  const openSend = async (files?: File[]) => {
    const everyone = people();
    if (!everyone.length) {
      toast('Nobody else is in the call yet.', 'info');
      return;
    }
    const choice = await openRoomSendDialog(everyone, { files });
    if (!choice) return;
    const m = await mounted.ready;
    if (choice.to) m.send(choice.files, choice.to);
    else m.sendToEveryone(choice.files, people());
  };
  const button = h('button', { type: 'button', class: 'btn btn--secondary transfer-room__send' }, icon('paperclip'), h('span', {}, 'Send file'));
  button.addEventListener('click', () => void openSend());
  box.prepend(button);
  o.root.prepend(box);
  const undrop = dropTarget(o.dropZone ?? o.root, (files) => void openSend(files));
  return { ready: mounted.ready, dispose: () => {
    for (const off of offs) off();
    undrop();
    links.dispose();
    mounted.dispose();
  } };
}

interface StartOptions {
  signaling: SignalingClient;
  channels: ChannelTransport;
  directory: Directory;
  scope: string;
  ledger?: LedgerPost;
  place(panel: HTMLElement): void;
}

/** start — the manager, the offers list and the transfers panel; restores what a reload interrupted. */
function start(o: StartOptions): TransfersHandle {
  let manager: TransferManager | null = null;
  let refresh: ReturnType<typeof setInterval> | null = null;
  // A page going away records its progress one last time (IndexedDB usually completes it).
  const bye = () => manager?.persist();
  addEventListener('pagehide', bye);
  const ready = (async () => {
    const url = workerUrl('opfs-writer');
    const disk = url && Disk.available ? new Disk(url) : null;
    const store = await TransferStore.open();
    const m = new TransferManager({ signal: signalPort(o.signaling), channels: o.channels, directory: o.directory, store, disk, scope: o.scope, selfUserId: currentUserId(), ledger: o.ledger });
    manager = m;
    // Offers wait in a list above the transfers (never a modal: see OffersPanel).
    const offers = new OffersPanel({ accept: (id) => void m.accept(id), decline: (id) => m.decline(id), canReceive: m.canReceive });
    o.place(offers.el);
    const panel = new TransferPanel({
      cancel: (id) => m.cancel(id),
      save: (id) => void downloadReceived(id, m.info(id)?.name ?? 'file').catch((e: Error) => toast(`Could not save: ${e.message}`, 'error')),
      saveAs: savePicker() ? (id) => void saveReceivedAs(id, m.info(id)?.name ?? 'file').catch((e: Error) => toast(`Could not save: ${e.message}`, 'error')) : undefined,
      remove: (id) => void m.remove(id),
      pickAgain: async (id) => {
        const [file] = await chooseFiles(false);
        if (!file) return;
        const err = await m.pickAgain(id, file);
        if (err) toast(err, 'error');
      },
    });
    o.place(panel.el);
    // A fast transfer changes hundreds of times a second; rows follow every RENDER_MS.
    const dirty = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      for (const id of dirty) panel.render(id, m.info(id));
      dirty.clear();
    };
    m.on('change', (id) => {
      dirty.add(id);
      timer ??= setTimeout(flush, RENDER_MS);
    });
    // Speeds and times left move even when no chunk lands (a stall shows as slowing down).
    refresh = setInterval(() => {
      for (const t of m.list()) if (t.status === 'active') dirty.add(t.id);
      if (dirty.size) timer ??= setTimeout(flush, 0);
    }, 1_000);
    m.on('offer', (offer) => offers.show(offer));
    m.on('offer-closed', (id) => offers.close(id));
    m.on('notice', (text, kind) => toast(text, kind));
    await m.restore();
    expose({ transfers: m });
    return m;
  })();
  ready.catch((err: unknown) => console.error('file transfer could not start', err));
  return { ready, dispose: () => {
    removeEventListener('pagehide', bye);
    if (refresh) clearInterval(refresh);
    manager?.dispose();
  } };
}

function signalPort(signaling: SignalingClient): SignalPort {
  return {
    send: (to, msg) => signaling.sendSignal(to, { kind: 'app', app: TRANSFER_APP, data: msg }),
    on: (fn) => signaling.on('signal', (m) => {
      if (m.payload.kind === 'app' && m.payload.app === TRANSFER_APP) fn(m.from, m.payload.data);
    }),
  };
}

function currentUserId(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="hearth-user"]')?.content ?? '';
}

/** workerUrl — a worker bundle's URL from <meta name="hearth-workers"> (content-hashed by the build). */
function workerUrl(name: string): string | null {
  try {
    const map = JSON.parse(document.querySelector<HTMLMetaElement>('meta[name="hearth-workers"]')?.content ?? '{}') as Record<string, unknown>;
    const url = map[name];
    return typeof url === 'string' && url.startsWith('/') ? url : null;
  } catch {
    return null;
  }
}
