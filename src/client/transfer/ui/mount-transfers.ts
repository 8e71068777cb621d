// What lobby and room transfers share on a page: the manager, the list of offers and the
// transfers panel, saving, picking a file again, and restoring what a reload interrupted.
import { Disk } from '../lib/disk.js';
import { TransferManager } from '../lib/manager.js';
import { TRANSFER_APP } from '../lib/messages.js';
import { openTransferStore } from '../lib/store.js';
import type { ChannelTransport, Directory, LedgerPost, SignalPort } from '../lib/transport.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { expose, selfUserId, workerUrl } from '../../shared/ui/page.js';
import { toast } from '../../shared/ui/toasts.js';
import { OffersPanel } from './offers-panel.js';
import { chooseFiles } from './pick-files.js';
import { downloadReceived, saveReceivedAs, savePicker } from './save-file.js';
import { TransferPanel } from './transfer-panel.js';

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

/** MountOptions — where transfers run (lobby or room) and where their panels go. */
export interface MountOptions {
  signaling: SignalingClient;
  channels: ChannelTransport;
  directory: Directory;
  /** 'lobby' or 'room:<slug>' (see ManagerOptions.scope). */
  scope: string;
  ledger?: LedgerPost;
  place(panel: HTMLElement): void;
}

// Rows re-render at most this often: enough for a live bar, cheap beside the transfer itself.
const RENDER_MS = 500;

/** mountTransfers — the manager, the offers list and the transfers panel; restores what a reload interrupted. */
export function mountTransfers(o: MountOptions): TransfersHandle {
  let manager: TransferManager | null = null;
  let refresh: ReturnType<typeof setInterval> | null = null;
  // A page going away records its progress one last time (IndexedDB usually completes it).
  const bye = () => manager?.persist();
  addEventListener('pagehide', bye);
  const ready = (async () => {
    const url = workerUrl('opfs-writer');
    const disk = url && Disk.available ? new Disk(url) : null;
    const store = await openTransferStore();
    const m = new TransferManager({ signal: signalPort(o.signaling), channels: o.channels, directory: o.directory, store, disk, scope: o.scope, selfUserId: selfUserId(), ledger: o.ledger });
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
