// Ringing on every page: the incoming-call dialog, the caller's "Ringing…" panel, Do not disturb, missed calls.
import type { CallState, MissedCall, ServerMessageOf, UserRef } from '../../../shared/protocol.js';
import { Ringtone } from '../lib/ringtone.js';
import { SignalingError, type SignalingClient } from '../../shared/lib/signaling-client.js';
import { avatar, h, icon, setIcon } from '../../shared/ui/dom.js';
import { toast } from '../../shared/ui/toasts.js';
import { mountNotifyControl, RingNotifier } from './notifications.js';

const OUTCOME: Partial<Record<CallState, (name: string) => string>> = {
  declined: (n) => `${n} declined`,
  'no-answer': () => 'No answer',
  busy: (n) => `${n} is busy`,
  offline: (n) => `${n} went offline`,
  dnd: (n) => `${n} is not taking calls`,
  cancelled: () => 'Call cancelled',
};

export interface RingingOptions {
  /** Where to go once a call is accepted; defaults to the room page, joining at once with the server's one-time token. */
  goToRoom?: (slug: string, join?: string) => void;
  /** The room this page is in: an accepted ring into it needs no navigation. */
  currentRoom?: () => string | null;
}

/** RingingUi — the public surface islands use (call someone, ring someone into a room). */
export interface RingingUi {
  call(user: UserRef, room?: string): void;
  teardown(): void;
}

/** mountRinging — attaches ringing to `signaling` on this page. */
export function mountRinging(signaling: SignalingClient, opts: RingingOptions = {}): RingingUi {
  const goToRoom = opts.goToRoom ?? ((slug, join) => location.assign(`/r/${encodeURIComponent(slug)}${join ? `?join=${encodeURIComponent(join)}` : ''}`));
  const ringtone = new Ringtone();
  const notifier = new RingNotifier();
  let incoming: { callId: string; dialog: HTMLDialogElement; from: UserRef } | null = null;
  let outgoing: { callId: string | null; panel: HTMLElement; peer: UserRef; room?: string } | null = null;
  const offs: (() => void)[] = [mountNotifyControl(), () => notifier.dispose()];

  // ---- Do not disturb ----------------------------------------------------------------
  const dnd = document.getElementById('dnd-toggle') as HTMLButtonElement | null;
  if (dnd) {
    dnd.hidden = false;
    dnd.addEventListener('click', () => signaling.sendDnd(dnd.getAttribute('aria-pressed') !== 'true'));
    offs.push(signaling.on('dnd', (m) => {
      dnd.setAttribute('aria-pressed', String(m.on));
      const svg = dnd.querySelector('svg');
      if (svg) setIcon(svg as SVGSVGElement, m.on ? 'bell-off' : 'bell');
      toast(m.on ? 'Do not disturb is on: calls are declined and listed as missed.' : 'Do not disturb is off.');
    }));
  }

  // ---- incoming ------------------------------------------------------------------------
  const closeIncoming = () => {
    ringtone.stop();
    notifier.ended();
    incoming?.dialog.close();
    incoming?.dialog.remove();
    incoming = null;
  };
  const answer = (accept: boolean) => {
    if (!incoming) return;
    signaling.sendRingAnswer(incoming.callId, accept);
    if (!accept) closeIncoming();
  };
  offs.push(signaling.on('ring-incoming', (m) => {
    closeIncoming();
    const title = `Incoming call from ${m.from.displayName}`;
    const accept = h('button', { type: 'button', class: 'btn btn--primary' }, icon('phone'), 'Accept');
    const decline = h('button', { type: 'button', class: 'btn btn--danger' }, icon('phone-off'), 'Decline');
    const dialog = h('dialog', { class: 'modal ring-dialog', role: 'alertdialog', 'aria-labelledby': 'ring-title', 'aria-describedby': 'ring-desc', tabindex: '-1' },
      h('div', { class: 'modal__header' }, avatar(m.from.displayName, 'avatar--xl ring-dialog__avatar'), h('h2', { id: 'ring-title', class: 'modal__title' }, title)),
      h('p', { id: 'ring-desc' }, m.room ? `${m.from.displayName} invites you into “${m.room.name}”.` : `${m.from.displayName} wants to talk with you.`),
      h('div', { class: 'modal__actions' }, decline, accept));
    accept.addEventListener('click', () => answer(true));
    decline.addEventListener('click', () => answer(false));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      answer(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    // The dialog itself takes the focus, not Accept: a key pressed while typing elsewhere must
    // not answer (and turn on the camera). Tab reaches Decline and Accept; Escape declines.
    dialog.focus();
    incoming = { callId: m.callId, dialog, from: m.from };
    void ringtone.start();
    notifier.ringing(m.callId, m.from.displayName, m.room?.name ?? null);
  }));

  // ---- outgoing ------------------------------------------------------------------------
  const closeOutgoing = () => {
    outgoing?.panel.remove();
    outgoing = null;
  };
  const showOutcome = (text: string) => {
    if (!outgoing) return;
    const close = h('button', { type: 'button', class: 'btn btn--secondary btn--small' }, 'Close');
    close.addEventListener('click', closeOutgoing);
    outgoing.panel.replaceChildren(avatar(outgoing.peer.displayName), h('p', { class: 'ring-panel__text' }, text), close);
    const panel = outgoing.panel;
    setTimeout(() => {
      if (outgoing?.panel === panel) closeOutgoing();
    }, 8_000);
  };

  offs.push(signaling.on('ring-update', (m) => onUpdate(m)));
  function onUpdate(m: ServerMessageOf<'ring-update'>): void {
    if (incoming?.callId === m.callId) {
      if (m.state === 'accepted' && m.room) {
        closeIncoming();
        if (opts.currentRoom?.() !== m.room) goToRoom(m.room, m.join);
        return;
      }
      if (m.state !== 'ringing') {
        if (m.state === 'cancelled' || m.state === 'no-answer') toast(`Missed call from ${incoming.from.displayName}`);
        closeIncoming();
      }
      return;
    }
    if (!outgoing || outgoing.callId !== m.callId) return;
    if (m.state === 'ringing') return;
    if (m.state === 'accepted' && m.room) {
      closeOutgoing();
      if (opts.currentRoom?.() === m.room) toast(`${m.peer.displayName} is joining`, 'success');
      else goToRoom(m.room, m.join);
      return;
    }
    const text = OUTCOME[m.state]?.(m.peer.displayName);
    if (text) showOutcome(text);
  }

  offs.push(signaling.on('ring-notice', (m) => toast(`${m.from.displayName} tried to call`)));

  // ---- missed calls (lobby) ----------------------------------------------------------------
  const missedList = document.getElementById('missed-calls');
  const call = (user: UserRef, room?: string) => {
    closeOutgoing();
    const cancel = h('button', { type: 'button', class: 'btn btn--danger btn--small' }, icon('phone-off'), 'Cancel');
    const panel = h('div', { class: 'ring-panel', role: 'status' }, avatar(user.displayName), h('p', { class: 'ring-panel__text' }, `Ringing ${user.displayName}…`), cancel);
    let cancelled = false;
    cancel.addEventListener('click', () => {
      cancelled = true;
      if (outgoing?.callId) signaling.sendRingCancel(outgoing.callId);
      closeOutgoing();
    });
    document.body.append(panel);
    outgoing = { callId: null, panel, peer: user, ...(room ? { room } : {}) };
    void signaling.ring(user.userId, room).then((reply) => {
      // Cancelled before the server answered: hang up the call it may have started.
      if (cancelled && !(reply instanceof SignalingError) && reply.state === 'ringing') signaling.sendRingCancel(reply.callId);
      if (outgoing?.panel !== panel) return;
      if (reply instanceof SignalingError) return showOutcome(reply.message);
      outgoing.callId = reply.callId;
      onUpdate(reply);
    });
  };
  if (missedList) {
    const wire = () => {
      for (const li of missedList.querySelectorAll<HTMLLIElement>('li[data-call-id]')) {
        const name = li.querySelector('.person__name')?.textContent ?? '';
        for (const btn of li.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
          btn.hidden = false;
          btn.onclick = () => {
            if (btn.dataset.action === 'call-back') call({ userId: li.dataset.userId!, displayName: name });
            else signaling.sendDismissMissed(li.dataset.callId!);
          };
        }
      }
    };
    wire();
    offs.push(signaling.on('missed-calls', (m) => {
      renderMissed(missedList, m.calls);
      wire();
    }));
  }

  return {
    call,
    teardown() {
      closeIncoming();
      closeOutgoing();
      offs.forEach((off) => off());
    },
  };
}

function renderMissed(list: HTMLElement, calls: MissedCall[]): void {
  list.replaceChildren(...calls.map((m) => h('li', { class: 'person', 'data-call-id': m.id, 'data-user-id': m.from.userId },
    avatar(m.from.displayName),
    h('div', { class: 'person__body' },
      h('span', { class: 'person__name' }, m.from.displayName),
      h('span', { class: 'person__where' }, 'Tried to call you ', h('time', { datetime: new Date(m.ts).toISOString() }, new Date(m.ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })))),
    h('div', { class: 'person-actions' },
      h('button', { type: 'button', class: 'btn btn--secondary btn--small', 'data-action': 'call-back' }, 'Call back'),
      h('button', { type: 'button', class: 'btn btn--ghost btn--small', 'data-action': 'dismiss', 'aria-label': `Dismiss missed call from ${m.from.displayName}` }, icon('x'))))));
  const panel = document.getElementById('missed-panel');
  if (panel) panel.hidden = calls.length === 0;
}
