// Lobby island: keeps Online now, Live rooms and Your rooms live, rings people by name, and sends files.
import { followLobby } from '../shared/lib/lobby-feed.js';
import { watchConnection } from '../shared/ui/connection-status.js';
import { h, icon } from '../shared/ui/dom.js';
import { expose, pageSignaling, selfUserId } from '../shared/ui/page.js';
import { LobbyLists } from '../lobby/ui/lobby-lists.js';
import { mountRinging, type RingingUi } from '../ringing/ui/ringing.js';
import { mountLobbyTransfers } from '../transfer/ui/lobby-transfers.js';

declare global {
  interface HearthHandle {
    ringing?: RingingUi;
  }
}

/** mount — attaches live updates to the server-rendered lobby; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const { signaling, dispose } = pageSignaling();
  const lists = new LobbyLists(root, selfUserId());
  const ringing = mountRinging(signaling);
  lists.personActions.push((entry, actions) => {
    const label = `Call ${entry.displayName}`;
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--small', 'aria-label': label, title: label }, icon('phone'), h('span', { 'aria-hidden': 'true' }, 'Call'));
    btn.addEventListener('click', () => ringing.call({ userId: entry.userId, displayName: entry.displayName }));
    actions.append(btn);
  });
  const transfers = mountLobbyTransfers(root, { signaling, addPersonAction: (action) => lists.personActions.push(action) });
  const offs = [
    watchConnection(signaling),
    followLobby(signaling, (lobby, change) => lists.update(lobby, change)),
  ];
  expose({ signaling, ringing });
  signaling.connect();
  return () => {
    for (const off of offs) off();
    ringing.teardown();
    transfers.dispose();
    dispose();
  };
}

const root = document.querySelector<HTMLElement>('[data-island="lobby"]');
if (root) mount(root);
