// When the signaling channel closes for good: the sign-in page if the session ended, a lasting notice if too many tabs are open.
import { CloseCode } from '../../../shared/protocol.js';
import type { SignalingClient } from '../lib/signaling-client.js';
import { toast } from './toasts.js';

/** watchConnection — reacts to the server's final close codes; returns the teardown. */
export function watchConnection(signaling: SignalingClient, goTo: (url: string) => void = (url) => location.assign(url)): () => void {
  // Signing out here ends this session too: the form's own answer ("You have signed out") wins.
  let signingOut = false;
  const onSubmit = (ev: Event) => {
    if ((ev.target as Element | null)?.closest?.('.signout-form')) signingOut = true;
  };
  document.addEventListener('submit', onSubmit, true);
  const off = signaling.onState((state, info) => {
    if (state !== 'closed' || !info) return;
    if (info.code === CloseCode.SessionEnded) {
      if (signingOut) return;
      goTo(`/login?expired=1&next=${encodeURIComponent(location.pathname)}`);
    } else if (info.code === CloseCode.TooManySockets) {
      toast('Too many Hearth tabs open. Close some of them, then reload this page.', 'error', { timeoutMs: 0 });
    }
  });
  return () => {
    off();
    document.removeEventListener('submit', onSubmit, true);
  };
}
