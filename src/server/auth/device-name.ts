// How the Account page names a signed-in device: a short browser name from its user agent, and when things happened in words.

/** UNKNOWN_BROWSER — what a user agent we cannot read is called. */
export const UNKNOWN_BROWSER = 'Unknown browser';

// Order matters: Edge, Opera and Samsung Internet also say "Chrome", Chrome also says "Safari".
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:HeadlessChrome|Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

/** deviceName — e.g. "Chrome on Linux", "Safari on iPhone", "Firefox"; "Unknown browser" when the user agent says nothing we know. */
export function deviceName(userAgent: string): string {
  const ua = userAgent.slice(0, 512);
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  if (!browser) return UNKNOWN_BROWSER;
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** absoluteTime — e.g. "28 Nov 2025, 07:02" (the server's clock and zone, as the lobby shows times). */
export function absoluteTime(ts: number): string {
  return new Date(ts).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * timeAgo — "just now", "5 minutes ago", "3 hours ago", "2 days ago"; a week or more ago the
 * date itself ("28 Nov 2025"). A time in the future (clocks of two instances) is "just now".
 */
export function timeAgo(ts: number, now = Date.now()): string {
  const ago = now - ts;
  if (ago < MINUTE) return 'just now';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (ago < HOUR) return plural(Math.floor(ago / MINUTE), 'minute');
  if (ago < DAY) return plural(Math.floor(ago / HOUR), 'hour');
  if (ago < 7 * DAY) return plural(Math.floor(ago / DAY), 'day');
  return new Date(ts).toLocaleDateString('en-GB', { dateStyle: 'medium' });
}
