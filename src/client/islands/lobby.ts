// Lobby island: keeps Online now, Live rooms and Your rooms live over the signaling channel.
import { SignalingClient } from '../lib/signaling-client.js';
import { LobbyView } from '../ui/lobby-view.js';

/** mount — attaches live updates to the server-rendered lobby; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const selfId = document.querySelector<HTMLMetaElement>('meta[name="hearth-user"]')?.content ?? '';
  const view = new LobbyView(root, selfId);
  const signaling = new SignalingClient();
  const off = signaling.on('lobby', (m) => {
    view.renderOnline(m.online);
    view.renderLiveRooms(m.rooms);
  });
  signaling.connect();
  (window as unknown as { __hearth?: object }).__hearth = { signaling, view };
  return () => {
    off();
    signaling.close();
  };
}

const root = document.querySelector<HTMLElement>('[data-island="lobby"]');
if (root) mount(root);
