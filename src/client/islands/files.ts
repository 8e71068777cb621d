// Shared files page island: one FilesEngine for the lobby's shares, and the page's lists kept live from it.
import { FilesEngine } from '../files/lib/files-engine.js';
import { mountFilesPage } from '../files/ui/files-page.js';
import { watchConnection } from '../shared/ui/connection-status.js';
import { expose, pageSignaling, selfUserId, workerUrl } from '../shared/ui/page.js';
import { mountRinging } from '../ringing/ui/ringing.js';

declare global {
  interface HearthHandle {
    files?: FilesEngine;
  }
}

/** mount — attaches the engine and live lists to the server-rendered /files page; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const { signaling, dispose } = pageSignaling();
  const engine = new FilesEngine(signaling, { room: null, selfUserId: selfUserId(), diskUrl: workerUrl('opfs-writer') });
  const unmount = mountFilesPage(root, engine, signaling, selfUserId());
  // Calls still ring here: a person browsing files is as reachable as one in the lobby.
  const ringing = mountRinging(signaling);
  const offs = [watchConnection(signaling)];
  expose({ signaling, ringing, files: engine });
  engine.start();
  signaling.connect();
  return () => {
    for (const off of offs) off();
    unmount();
    ringing.teardown();
    engine.dispose();
    dispose();
  };
}

const root = document.querySelector<HTMLElement>('[data-island="files"]');
if (root) mount(root);
