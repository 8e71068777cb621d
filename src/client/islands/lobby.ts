// Lobby island: keeps Online now, Live rooms and Your rooms live, and rings people by name.
import { followLobby } from '../shared/lib/lobby-feed.js';
import { expose, pageSignaling, selfUserId } from '../shared/ui/page.js';
import { h, icon } from '../shared/ui/dom.js';
import { LobbyLists } from '../lobby/ui/lobby-lists.js';
import { mountLobbyTransfers } from '../transfer/ui/mount.js';
import { mountRinging } from '../ringing/ui/ringing.js';
import { watchConnection } from '../shared/ui/connection-status.js';

/** mount — attaches live updates to the server-rendered lobby; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const view = new LobbyLists(root, selfUserId());
  const { signaling, dispose } = pageSignaling();
  const ringing = mountRinging(signaling);
  const stopWatching = watchConnection(signaling);
  view.personActions.push((entry, actions) => {
    const label = `Call ${entry.displayName}`;
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--small', 'aria-label': label, title: label }, icon('phone'), h('span', { 'aria-hidden': 'true' }, 'Call'));
    btn.addEventListener('click', () => ringing.call({ userId: entry.userId, displayName: entry.displayName }));
    actions.append(btn);
  });
  const off = followLobby(signaling, (lobby, change) => view.update(lobby, change));
  signaling.connect();
  expose({ signaling, ringing });
  const transfers = mountLobbyTransfers({ signaling, view });
  return () => {
    off();
    ringing.teardown();
    stopWatching();
    transfers.dispose();
    dispose();
  };
}

const root = document.querySelector<HTMLElement>('[data-island="lobby"]');
if (root) mount(root);
