// The room page around the call: the pre-join panel until the call starts (and after it), the
// offer to wait for a seat when the room is full, and the notice that the call has ended.
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

  private onPhase({ phase, message, code }: PhaseChange): void {
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
      closed(this.page, message ?? 'The call has ended.');
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
  page.dataset.state = 'closed';
  const stage = page.querySelector('.room-stage');
  stage?.querySelector('.room-closed')?.remove();
  stage?.prepend(h('section', { class: 'notice notice--warning room-closed', role: 'alert' },
    h('div', { class: 'room-closed__text' },
      h('h2', { class: 'room-closed__title' }, 'This call has ended'),
      h('p', {}, message),
      h('a', { class: 'btn btn--secondary', href: '/' }, 'Back to lobby'))));
  for (const el of page.querySelectorAll<HTMLTextAreaElement | HTMLButtonElement>('#chat-form textarea, #chat-form button')) el.disabled = true;
}
