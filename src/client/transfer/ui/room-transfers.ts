// File transfer in a room: Send file (to one person or everyone) over the call's own connections,
// every transfer recorded in the room's chat (the ledger).
import { RoomDirectory, type RoomMember } from '../lib/directory.js';
import { RoomLinks, type PeerConnectionSource } from '../lib/room-links.js';
import type { LedgerPost } from '../lib/transport.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { h, icon } from '../../shared/ui/dom.js';
import { selfUserId } from '../../shared/ui/page.js';
import { toast } from '../../shared/ui/toasts.js';
import { mountTransfers, type TransfersHandle } from './mount-transfers.js';
import { dropTarget } from './pick-files.js';
import { openRoomSendDialog } from './send-dialog.js';

/** RoomTransfersOptions — what the room island provides. */
export interface RoomTransfersOptions {
  signaling: SignalingClient;
  slug: string;
  /** The call's connections (its Mesh). */
  connections: PeerConnectionSource;
}

/** RoomTransfers — also told who is in the call whenever that changes. */
export interface RoomTransfers extends TransfersHandle {
  /** members — the other tabs in the call now (not this one), as the call's roster has them. */
  members(roster: readonly RoomMember[]): void;
}

/**
 * mountRoomTransfers — puts the Send file button and the transfers panel at the top of `root`;
 * files dropped on `root` open the Send dialog.
 */
export function mountRoomTransfers(root: HTMLElement, o: RoomTransfersOptions): RoomTransfers {
  const directory = new RoomDirectory();
  const links = new RoomLinks(o.connections);
  const ledger: LedgerPost = (e) => void o.signaling.sendLedger(e);
  const box = h('div', { class: 'transfer-room' });
  const mounted = mountTransfers({ signaling: o.signaling, channels: links, directory, scope: `room:${o.slug}`, ledger, place: (panel) => box.append(panel) });

  const openSend = async (files?: File[]) => {
    const everyone = directory.people(selfUserId());
    if (!everyone.length) {
      toast('Nobody else is in the call yet.', 'info');
      return;
    }
    const choice = await openRoomSendDialog(everyone, { files });
    if (!choice) return;
    const m = await mounted.ready;
    if (choice.to) m.send(choice.files, choice.to);
    else m.sendToEveryone(choice.files, directory.people(selfUserId()));
  };
  const button = h('button', { type: 'button', class: 'btn btn--secondary transfer-room__send' }, icon('paperclip'), h('span', {}, 'Send file'));
  button.addEventListener('click', () => void openSend());
  box.prepend(button);
  root.prepend(box);
  const undrop = dropTarget(root, (files) => void openSend(files));
  return {
    ready: mounted.ready,
    members: (roster) => directory.update(roster),
    dispose: () => {
      undrop();
      links.dispose();
      mounted.dispose();
      box.remove();
    },
  };
}
