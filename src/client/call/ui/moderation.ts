// The room's owner and admins moderate from the page: Remove from room on each person, Lock room /
// Unlock room, over the socket (the forms post when it is not open). Everyone sees the lock and
// the capacity as the room announces them.
import type { ServerMessageOf } from '../../../shared/protocol.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { h, setIcon } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import type { Member } from './members.js';

/** RoomState — what the page shows of the room's settings. */
type RoomState = Pick<ServerMessageOf<'room-updated'>, 'capacity' | 'locked'>;

/**
 * removeButton — "Remove from room" for `member` (its accessible name adds whose row it is:
 * "Remove from room: Ada"); not on your own row. The server decides who may remove whom.
 */
export function removeButton(signaling: SignalingClient, slug: string, selfUserId: string): (member: Member) => HTMLElement | null {
  return (member) => {
    if (member.userId === selfUserId) return null;
    const btn = h('button', { type: 'button', class: 'btn btn--danger-outline btn--small', 'data-action': 'remove', 'aria-label': `Remove from room: ${member.displayName}` }, 'Remove from room');
    btn.addEventListener('click', () => {
      btn.disabled = true;
      void signaling.removeFromRoom(slug, member.userId).then((reply) => {
        btn.disabled = false;
        if (reply instanceof SignalingError) toast(reply.message, 'error');
        else toast(`${member.displayName} was removed from this room for ${reply.minutes === 1 ? '1 minute' : `${reply.minutes} minutes`}.`, 'success');
      });
    });
    return btn;
  };
}

/** RoomHead — the room's Locked badge and capacity in the page head, and the lock form of Room settings. */
export class RoomHead {
  private readonly badge: HTMLElement | null;
  private readonly capacity: HTMLElement | null;
  private readonly lockForm: HTMLFormElement | null;

  constructor(private readonly page: HTMLElement, signaling: SignalingClient, slug: string) {
    this.badge = page.querySelector('#room-locked');
    this.capacity = page.querySelector('#room-capacity');
    this.lockForm = page.querySelector<HTMLFormElement>('#lock-form');
    const form = this.lockForm;
    form?.addEventListener('submit', (e) => {
      // Not connected: the form posts, and the page comes back with the new state.
      if (!signaling.isOpen) return;
      e.preventDefault();
      const locked = (form.elements.namedItem('locked') as HTMLInputElement | null)?.value === '1';
      const button = form.querySelector('button')!;
      button.disabled = true;
      void signaling.setRoomLocked(slug, locked).then((reply) => {
        button.disabled = false;
        if (reply instanceof SignalingError) return toast(reply.message, 'error');
        this.show(reply);
        toast(reply.locked ? 'Room locked. Nobody new can join until you unlock it.' : 'Room unlocked.', 'success');
      });
    });
  }

  /** show — the room's lock and capacity as the server last said. */
  show(room: Partial<RoomState>): void {
    if (room.locked !== undefined) {
      if (this.badge) this.badge.hidden = !room.locked;
      this.showLockForm(room.locked);
    }
    if (room.capacity !== undefined) {
      const before = this.page.dataset.capacity;
      this.page.dataset.capacity = String(room.capacity);
      if (this.capacity) this.capacity.textContent = `Up to ${room.capacity} people`;
      // Room settings follows a capacity someone else set, unless its field holds something else (being edited, or refused).
      const field = this.page.querySelector<HTMLInputElement>('#settings-capacity');
      if (field && field.value === before) field.value = String(room.capacity);
    }
  }

  private showLockForm(locked: boolean): void {
    const form = this.lockForm;
    if (!form) return;
    const next = form.elements.namedItem('locked') as HTMLInputElement | null;
    if (next) next.value = locked ? '0' : '1';
    const state = form.querySelector('#lock-state');
    if (state) state.textContent = locked ? 'Locked: nobody new can join.' : 'Open: anyone who may enter can join.';
    const button = form.querySelector('button');
    const svg = button?.querySelector('svg');
    if (svg) setIcon(svg, locked ? 'lock-open' : 'lock');
    const label = button?.querySelector('span');
    if (label) label.textContent = locked ? 'Unlock room' : 'Lock room';
  }
}
