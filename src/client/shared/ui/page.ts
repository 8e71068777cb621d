// What every island reads from the page it mounts on: who is signed in, where the worker bundles
// are, the signaling socket tied to the page's lifetime, and the `__hearth` handle for tests.
import { SignalingClient } from '../lib/signaling-client.js';

/** selfUserId — the signed-in user's id (<meta name="hearth-user">; empty when signed out). */
export function selfUserId(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="hearth-user"]')?.content ?? '';
}

/** workerUrl — a worker bundle's URL from <meta name="hearth-workers"> (content-hashed by the build). */
export function workerUrl(name: string): string | null {
  try {
    const map = JSON.parse(document.querySelector<HTMLMetaElement>('meta[name="hearth-workers"]')?.content ?? '{}') as Record<string, unknown>;
    const url = map[name];
    return typeof url === 'string' && url.startsWith('/') ? url : null;
  } catch {
    return null;
  }
}

/**
 * pageSignaling — a SignalingClient for this origin's /ws. A page leaving (or entering the
 * back/forward cache) closes its socket at once, so others see this tab go now rather than after
 * the heartbeat window; a page coming back from that cache reconnects. Returns the teardown too.
 */
export function pageSignaling(): { signaling: SignalingClient; dispose(): void } {
  const signaling = new SignalingClient(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  const hide = () => signaling.hangUp();
  const show = (ev: PageTransitionEvent) => {
    if (ev.persisted) signaling.connect();
  };
  addEventListener('pagehide', hide);
  addEventListener('pageshow', show);
  return {
    signaling,
    dispose() {
      removeEventListener('pagehide', hide);
      removeEventListener('pageshow', show);
      signaling.close();
    },
  };
}

declare global {
  /** HearthHandle — the page's live objects; each island and feature declares what it adds (see `expose`). */
  interface HearthHandle {
    signaling?: SignalingClient;
  }
  interface Window {
    /** __hearth — the page's live objects, for tests and for debugging from the console. */
    __hearth?: HearthHandle;
  }
}

/** expose — adds `objects` to `window.__hearth`. */
export function expose(objects: Partial<HearthHandle>): void {
  window.__hearth = Object.assign(window.__hearth ?? {}, objects);
}
