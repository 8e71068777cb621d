// Rules for usernames, display names and passwords, shared by the server and the browser.
import { hasUnsafeText } from './text.js';

const USERNAME_PATTERN = /^[a-z0-9._-]{3,32}$/;
const DISPLAY_NAME_MAX = 48;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 256;

/** codePointLength — length as a person counts it (an emoji or 字 is one). */
export const codePointLength = (s: string): number => Array.from(s).length;

/** DISPLAY_NAME_UNSAFE — why a name with invisible, control or direction characters is refused. */
const DISPLAY_NAME_UNSAFE = 'Remove the invisible or control characters (such as zero-width spaces or direction marks) from the name.';

/**
 * displayNameError — what is wrong with a display name, or null when it is acceptable.
 * The shared unsafe-text rule runs on the name as typed, before white space is tidied,
 * so nothing it forbids can be turned into an innocent-looking space first.
 */
function displayNameError(raw: string): string | null {
  const typed = raw.normalize('NFC').trim();
  if (hasUnsafeText(typed)) return DISPLAY_NAME_UNSAFE;
  const len = codePointLength(typed.replace(/\s+/g, ' '));
  if (len < 1 || len > DISPLAY_NAME_MAX) return `Use 1–${DISPLAY_NAME_MAX} characters.`;
  return null;
}

/** normalizeDisplayName — trims, NFC-normalises and tidies white space; null when empty, too long or unsafe. */
export function normalizeDisplayName(raw: string): string | null {
  if (displayNameError(raw) !== null) return null;
  return raw.normalize('NFC').trim().replace(/\s+/g, ' ');
}

export interface RegistrationErrors {
  username?: string;
  displayName?: string;
  password?: string;
}

/** validateRegistration — field-by-field messages, empty when the form is acceptable. */
export function validateRegistration(input: { username: string; displayName: string; password: string }): RegistrationErrors {
  const errors: RegistrationErrors = {};
  if (!USERNAME_PATTERN.test(input.username.toLowerCase())) {
    errors.username = 'Use 3–32 characters: letters a–z, digits, dot, underscore or hyphen.';
  }
  const nameError = displayNameError(input.displayName);
  if (nameError) errors.displayName = nameError;
  const pwLen = codePointLength(input.password);
  if (pwLen < PASSWORD_MIN || pwLen > PASSWORD_MAX) {
    errors.password = `Use ${PASSWORD_MIN}–${PASSWORD_MAX} characters.`;
  }
  return errors;
}
