// The room page around the call: the pre-join panel until the call starts (and after it), the
// offer to wait for a seat when the room is full, the notice that the call has ended, and the one
// that this person was removed from the room (Join stays off until they may come back).
import { REMOVED_TITLE } from '../../../shared/moderation.js';
import type { SeatWatcher } from '../lib/seat-watcher.js';
import type { PhaseChange, RoomCall } from '../lib/room-call.js';
import { h } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import type { Prejoin } from './prejoin.js';

/** RoomStage — follows the call's phase on div.room-page. */
export class RoomStage {
  private waitButton: HTMLButtonElement | null = null;

  constructor(private readonly page: HTMLElement, private readonly call: RoomCall, private readonly prejoin: Prejoin, private readonly seats: SeatWatcher) {
    prejoin.joinButton.addEventListener('click', () => void call.join());
    call.on('phase-changed', (c) => this.onPhase(c));
  }

  private onPhase({ phase, message, code, minutes }: PhaseChange): void {
    this.waitButton?.remove();
    this.waitButton = null;
    if (phase === 'joining') this.prejoin.setBusy(true, 'Joining…');
    else this.prejoin.setBusy(false);
    if (phase === 'in-call') {
      this.prejoin.hide();
    } else if (phase === 'idle') {
      this.prejoin.show(message);
      if (code === 'room-full') this.waitButton = this.offerToWait();
    } else if (phase === 'ended') {
      this.prejoin.hide();
      if (code === 'banned') removed(this.page, message ?? '', minutes);
      else closed(this.page, message ?? 'The call has ended.');
    }
  }

  /** offerToWait — the join lost the race for the last seat: join by itself once one frees up. */
  private offerToWait(): HTMLButtonElement {
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, 'Wait for a seat');
    btn.addEventListener('click', () => {
      btn.disabled = true;
      btn.textContent = 'Waiting for a seat…';
      this.seats.wait(() => {
        toast('A seat is free: joining.', 'success');
        void this.call.join();
      });
    });
    this.prejoin.joinButton.after(btn);
    return btn;
  }
}

/** waitForSeat — the page of a full room: its "Wait for a seat" button reloads the page once a seat is free. */
export function waitForSeat(button: HTMLButtonElement, seats: SeatWatcher): void {
  button.addEventListener('click', () => {
    button.disabled = true;
    button.lastElementChild!.textContent = 'Waiting for a seat…';
    toast('You will be let in as soon as a seat frees up.');
    seats.wait(() => {
      toast('A seat is free.', 'success');
      location.reload();
    });
  });
}

/** closed — the room is gone: say so, offer the way back, and stop the chat form. */
function closed(page: HTMLElement, message: string): void {
  ended(page, h('section', { class: 'notice notice--warning room-closed', role: 'alert' },
    h('div', { class: 'room-closed__text' },
      h('h2', { class: 'room-closed__title' }, 'This call has ended'),
      h('p', {}, message),
      h('a', { class: 'btn btn--secondary', href: '/' }, 'Back to lobby'))));
}

/**
 * removed — the room's owner or an admin removed this person: a calm word (not an alarm), and
 * a Join that stays off until they may come back (`minutes`; a minute when the server did not say).
 */
function removed(page: HTMLElement, comeBack: string, minutes = 1): void {
  const join = h('button', { type: 'button', class: 'btn btn--primary', disabled: true }, 'Join');
  ended(page, h('section', { class: 'notice room-closed', role: 'status' },
    h('div', { class: 'room-closed__text' },
      h('h2', { class: 'room-closed__title' }, REMOVED_TITLE),
      h('p', {}, comeBack),
      h('div', { class: 'form-actions' }, join, h('a', { class: 'btn btn--secondary', href: '/' }, 'Back to lobby')))));
  waitOutRemoval(join, minutes * 60);
}

/** waitOutRemoval — a removed person's Join: off for `seconds`, then it reloads the page (which lets them in again). */
export function waitOutRemoval(join: HTMLButtonElement, seconds: number): void {
  join.addEventListener('click', () => location.reload());
  setTimeout(() => {
    join.disabled = false;
  }, seconds * 1000);
}

/** ended — the call is over for good: `notice` on the stage, and the chat form stops. */
function ended(page: HTMLElement, notice: HTMLElement): void {
  page.dataset.state = 'closed';
  const stage = page.querySelector('.room-stage');
  stage?.querySelector('.room-closed')?.remove();
  stage?.prepend(notice);
  for (const el of page.querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>('#chat-form textarea, #chat-form button')) el.disabled = true;
}
