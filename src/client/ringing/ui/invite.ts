// The room's Invite panel: online people who are not in this room, each with "Ring <name>".
import type { OnlineEntry, UserRef } from '../../../shared/protocol.js';
import { followLobby } from '../../shared/lib/lobby-feed.js';
import type { SignalingClient } from '../../shared/lib/signaling-client.js';
import { avatar, h, icon } from '../../shared/ui/dom.js';

export interface InviteOptions {
  signaling: SignalingClient;
  /** The room being shown (people already in it are not listed). */
  slug: string;
  selfUserId: string;
  ring: (user: UserRef) => void;
}

/** mountInvite — an **Invite** button that opens the list; returns the teardown. */
export function mountInvite(container: HTMLElement, opts: InviteOptions): () => void {
  const list = h('ul', { class: 'people invite-list', id: 'invite-list' });
  const empty = h('p', { class: 'empty' }, 'Nobody else is online right now.');
  const panel = h('div', { class: 'panel invite-panel', id: 'invite-panel', hidden: true },
    h('h2', { class: 'panel__title' }, 'Invite someone'), list, empty);
  const toggle = h('button', { type: 'button', class: 'btn btn--secondary', 'aria-expanded': 'false', 'aria-controls': 'invite-panel' }, icon('users'), 'Invite');
  toggle.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute('aria-expanded', String(!panel.hidden));
  });
  container.append(toggle, panel);

  const render = (online: OnlineEntry[]) => {
    const others = online.filter((p) => p.userId !== opts.selfUserId && !(p.where.kind === 'room' && p.where.slug === opts.slug));
    list.replaceChildren(...others.map((p) => {
      const label = `Ring ${p.displayName}`;
      const ring = h('button', { type: 'button', class: 'btn btn--primary btn--small', 'aria-label': label }, icon('phone'), h('span', { 'aria-hidden': 'true' }, 'Ring'));
      ring.addEventListener('click', () => opts.ring({ userId: p.userId, displayName: p.displayName }));
      return h('li', { class: 'person', 'data-user-id': p.userId },
        avatar(p.displayName),
        h('div', { class: 'person__body' },
          h('span', { class: 'person__name' }, p.displayName),
          h('span', { class: 'person__where' }, p.where.kind === 'lobby' ? 'In the lobby' : p.where.kind === 'room' ? `In ${p.where.name}` : 'In a call')),
        h('div', { class: 'person-actions' }, ring));
    }));
    empty.hidden = others.length > 0;
  };
  const off = followLobby(opts.signaling, (lobby, change) => {
    if (change.full || change.online.size > 0) render(lobby.online);
  });
  return () => {
    off();
    toggle.remove();
    panel.remove();
  };
}
