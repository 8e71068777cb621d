// Desktop notifications for rings: the user menu's Turn on notifications control, and the notification
// a ring shows in a tab nobody looks at (closed when the ring ends, answered here or elsewhere).
import { controlState, notifyAction, ringNotification, type NotifyPermission } from '../lib/notify-policy.js';

const permission = (): NotifyPermission => (typeof Notification === 'undefined' ? null : Notification.permission);

/** mountNotifyControl — reveals the control (#notify-item) and keeps it in step with the permission; returns the teardown. */
export function mountNotifyControl(): () => void {
  const item = document.getElementById('notify-item');
  const button = document.getElementById('notify-toggle') as HTMLButtonElement | null;
  const note = document.getElementById('notify-state');
  if (!item || !button || !note) return () => {};
  const show = () => {
    const state = controlState(permission());
    item.hidden = state.kind === 'unavailable';
    button.hidden = state.kind !== 'ask';
    note.hidden = state.kind !== 'said';
    note.textContent = state.kind === 'said' ? state.text : '';
  };
  button.onclick = async () => {
    await Notification.requestPermission();
    show();
    // The button may have gone: the answer takes the focus, so it is read out and the menu keeps it.
    if (button.hidden) note.focus();
  };
  show();
  // Changed in the browser's site settings while the page is open.
  let status: PermissionStatus | null = null;
  let closed = false;
  void navigator.permissions?.query({ name: 'notifications' }).then((s) => {
    if (closed) return;
    status = s;
    s.addEventListener('change', show);
  }).catch(() => undefined);
  return () => {
    closed = true;
    status?.removeEventListener('change', show);
    button.onclick = null;
    item.hidden = true;
  };
}

/** RingNotifier — at most one notification for the ring coming in, following the tab's visibility. */
export class RingNotifier {
  private ring: { callId: string; from: string; room: string | null } | null = null;
  private shown: Notification | null = null;
  private readonly onVisibility = () => this.update();

  constructor() {
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** ringing — a ring came in (replacing any other). */
  ringing(callId: string, from: string, room: string | null): void {
    this.close();
    this.ring = { callId, from, room };
    this.update();
  }

  /** ended — the ring is over (answered, declined, cancelled, timed out). */
  ended(): void {
    this.ring = null;
    this.update();
  }

  dispose(): void {
    this.ended();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  private update(): void {
    const action = notifyAction({ permission: permission(), visibility: document.visibilityState, ringing: this.ring !== null, shown: this.shown !== null });
    if (action === 'close') this.close();
    if (action !== 'show' || !this.ring) return;
    const { title, body, tag } = ringNotification(this.ring.callId, this.ring.from, this.ring.room);
    try {
      const n = new Notification(title, { body, tag, requireInteraction: true });
      n.onclick = () => {
        window.focus();
        n.close();
      };
      this.shown = n;
    } catch {
      // Android's Chrome makes notifications only through a service worker: the ring dialog and sound remain.
    }
  }

  private close(): void {
    this.shown?.close();
    this.shown = null;
  }
}
