// When a ring becomes a desktop notification, and what the notifications control shows: decisions only, no page.

/** NotifyPermission — the browser's answer (Notification.permission), or null where there are no notifications. */
export type NotifyPermission = 'default' | 'granted' | 'denied' | null;

/** ControlState — the control: the button to ask, a line saying on or blocked, or nothing to offer. */
export type ControlState = { kind: 'ask' } | { kind: 'said'; text: string } | { kind: 'unavailable' };

/** controlState — what the Turn on notifications control shows for `permission`. */
export function controlState(permission: NotifyPermission): ControlState {
  if (permission === 'granted') return { kind: 'said', text: 'Notifications are on' };
  if (permission === 'denied') return { kind: 'said', text: 'Notifications are blocked in this browser\'s settings' };
  if (permission === 'default') return { kind: 'ask' };
  return { kind: 'unavailable' };
}

export interface RingSituation {
  permission: NotifyPermission;
  /** document.visibilityState of the tab. */
  visibility: string;
  /** A ring is coming in and not answered yet. */
  ringing: boolean;
  /** This tab already shows a notification for it. */
  shown: boolean;
}

/**
 * notifyAction — a notification while a ring comes into a tab nobody looks at (arriving hidden, or
 * the tab hidden while it rings); gone once the tab is looked at again or the ring is over, as the
 * ring dialog then says it all.
 */
export function notifyAction(s: RingSituation): 'show' | 'close' | 'keep' {
  if (!s.ringing || s.visibility !== 'hidden') return s.shown ? 'close' : 'keep';
  return s.permission === 'granted' && !s.shown ? 'show' : 'keep';
}

/**
 * ringNotification — the notification for a ring: its tag is the call's, so the callee's several
 * hidden tabs (and a repeated ring-incoming) replace one notification instead of stacking them.
 */
export function ringNotification(callId: string, from: string, room: string | null): { title: string; body: string; tag: string } {
  return {
    title: `${from} is calling you`,
    body: room ? `Into “${room}” on Hearth. Open Hearth to answer.` : 'Open Hearth to answer.',
    tag: `hearth-ring-${callId}`,
  };
}
