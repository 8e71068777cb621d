// Which device's steps to trust the local CA come first on the trust page, from the visitor's User-Agent.

/** DeviceKind — the devices the trust page has steps for. */
export type DeviceKind = 'android' | 'ios' | 'windows' | 'macos' | 'linux';

/** DEVICES — every device with steps, in the page's order when the visitor's is unknown. */
const DEVICES: readonly { kind: DeviceKind; label: string }[] = [
  { kind: 'android', label: 'Android' },
  { kind: 'ios', label: 'iPhone and iPad' },
  { kind: 'windows', label: 'Windows' },
  { kind: 'macos', label: 'macOS' },
  { kind: 'linux', label: 'Linux and Firefox' },
];

/**
 * deviceFromUserAgent — the visitor's device, or null when the User-Agent does not say. Order
 * matters: Android's says "Linux", iOS's says "like Mac OS X". An iPad asking for the desktop
 * site (iPadOS's default) says "Macintosh" and gets macOS first; its own steps are right below.
 */
export function deviceFromUserAgent(ua: string | undefined | null): DeviceKind | null {
  const s = ua ?? '';
  if (/Android/i.test(s)) return 'android';
  if (/iPhone|iPad|iPod/i.test(s)) return 'ios';
  if (/Windows/i.test(s)) return 'windows';
  if (/Macintosh|Mac OS X/i.test(s)) return 'macos';
  if (/Linux|X11|CrOS|FreeBSD|OpenBSD/i.test(s)) return 'linux';
  return null;
}

/** devicesInOrder — every device, the visitor's first (marked), the others in {@link DEVICES}' order. */
export function devicesInOrder(ua: string | undefined | null): { kind: DeviceKind; label: string; yours: boolean }[] {
  const yours = deviceFromUserAgent(ua);
  const all = DEVICES.map((d) => ({ ...d, yours: d.kind === yours }));
  return [...all.filter((d) => d.yours), ...all.filter((d) => !d.yours)];
}
