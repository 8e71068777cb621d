// Rules for usernames, display names and passwords, shared by the server and the browser.

export const USERNAME_PATTERN = /^[a-z0-9._-]{3,32}$/;
export const DISPLAY_NAME_MAX = 48;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** codePointLength — length as a person counts it (an emoji or 字 is one). */
export const codePointLength = (s: string): number => Array.from(s).length;

// Control and formatting characters that could hide or reorder text in other people's UIs.
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** normalizeDisplayName — trims and NFC-normalises; null when empty, too long or unsafe. */
export function normalizeDisplayName(raw: string): string | null {
  const name = raw.normalize('NFC').trim().replace(/\s+/g, ' ');
  const len = codePointLength(name);
  if (len < 1 || len > DISPLAY_NAME_MAX || UNSAFE_TEXT.test(name)) return null;
  return name;
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
  if (normalizeDisplayName(input.displayName) === null) {
    errors.displayName = `Use 1–${DISPLAY_NAME_MAX} characters.`;
  }
  const pwLen = codePointLength(input.password);
  if (pwLen < PASSWORD_MIN || pwLen > PASSWORD_MAX) {
    errors.password = `Use ${PASSWORD_MIN}–${PASSWORD_MAX} characters.`;
  }
  return errors;
}
