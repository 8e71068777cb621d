// File transfer in the lobby: "Send file to <name>" beside people with a tab in the lobby (and
// files dropped on them), over data-only connections of its own.
import { LobbyDirectory } from '../lib/directory.js';
import { LobbyLinks } from '../lib/lobby-links.js';
import { RTC_APP } from '../lib/messages.js';
import type { Person } from '../lib/transport.js';
import type { TransferManager } from '../lib/manager.js';
import type { OnlineEntry } from '../../../shared/protocol.js';
import { followLobby } from '../../shared/lib/lobby-feed.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { h, icon } from '../../shared/ui/dom.js';
import { mountTransfers, type TransfersHandle } from './mount-transfers.js';
import { chooseFiles, dropTarget } from './pick-files.js';

/** PersonAction — adds a feature's buttons to a person's row in Online now (`actions` is inside `row`). */
export type PersonAction = (entry: OnlineEntry, actions: HTMLElement, row: HTMLLIElement) => void;

/**
 * mountLobbyTransfers — adds "Send file to <name>" to every other person in the lobby who has
 * a tab in the lobby (through `addPersonAction`), accepts files dropped on them, and shows offers
 * and progress at the top of `root`.
 */
export function mountLobbyTransfers(root: HTMLElement, { signaling, addPersonAction }: { signaling: SignalingClient; addPersonAction(action: PersonAction): void }): TransfersHandle {
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
    signaling.on('welcome', (m) => (ice = m.iceServers)),
    followLobby(signaling, (m) => directory.update(m.online)),
    signaling.on('signal', (m) => {
      if (m.payload.kind === 'app' && m.payload.app === RTC_APP) links.handle(m.from, m.payload.data);
    }),
  ];
  // Closing our connections as the page goes tells the other side at once (SCTP abort), instead
  // of after its keepalive runs out.
  const bye = () => links.drop();
  addEventListener('pagehide', bye);
  const mounted = mountTransfers({ signaling, channels: links, directory, scope: 'lobby', place: (panel) => {
    const grid = root.querySelector('.lobby-grid');
    if (grid) grid.before(panel);
    else root.append(panel);
  } });
  void mounted.ready.then((m) => (manager = m));

  const send = (files: File[], person: Person) => void mounted.ready.then((m) => m.send(files, person));
  addPersonAction((entry, actions, row) => {
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
    actions.append(btn);
    dropTarget(row, (files) => send(files, person));
  });
  return { ready: mounted.ready, dispose: () => {
    for (const off of offs) off();
    removeEventListener('pagehide', bye);
    mounted.dispose();
    links.drop();
  } };
}
