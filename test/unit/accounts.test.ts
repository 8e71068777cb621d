// Unit tests for the shared account rules (usernames, display names, passwords) and safe return paths.
import { expect } from 'chai';
import { normalizeDisplayName, validateRegistration } from '../../src/shared/accounts.js';
import { safeNext } from '../../src/server/routes/auth.js';

describe('validateRegistration', () => {
  const ok = { username: 'ada.l_ovelace-1', displayName: 'Ada', password: 'correct horse' };
  it('accepts a valid form', () => expect(validateRegistration(ok)).to.deep.equal({}));
  const cases: [string, Partial<typeof ok>, keyof ReturnType<typeof validateRegistration>][] = [
    ['a 2-letter username', { username: 'ab' }, 'username'],
    ['a 33-letter username', { username: 'a'.repeat(33) }, 'username'],
    ['a username with a space', { username: 'ada l' }, 'username'],
    ['a username with a slash', { username: 'ada/x' }, 'username'],
    ['an empty display name', { displayName: '   ' }, 'displayName'],
    ['a 49-character display name', { displayName: 'x'.repeat(49) }, 'displayName'],
    ['a display name with a bidi override', { displayName: 'abc\u202Edef' }, 'displayName'],
    ['a 7-character password', { password: '1234567' }, 'password'],
    ['a 257-character password', { password: 'p'.repeat(257) }, 'password'],
  ];
  for (const [what, patch, field] of cases) {
    it(`rejects ${what}`, () => expect(validateRegistration({ ...ok, ...patch })).to.have.property(field));
  }
  it('counts display names in characters of any script', () => {
    expect(normalizeDisplayName('山田太郎')).to.equal('山田太郎');
    expect(normalizeDisplayName('🔥'.repeat(48))).to.equal('🔥'.repeat(48));
    expect(normalizeDisplayName('  Zoë   Ångström ')).to.equal('Zoë Ångström');
  });
});

describe('display names and the shared unsafe-text rule', () => {
  // Names that would look like someone else's, or reorder or hide text, in other people's lobby.
  const hostile: [string, string][] = [
    ['a zero-width space ("Ad\\u200Bmin")', 'Ad\u200Bmin'],
    ['a zero-width joiner between Latin letters', 'Ad\u200Dmin'],
    ['a zero-width non-joiner at the end', 'Admin\u200C'],
    ['a word joiner', 'Ad\u2060min'],
    ['a zero-width no-break space inside', 'Ad\uFEFFmin'],
    ['a soft hyphen', 'Ad\u00ADmin'],
    ['a right-to-left override', 'abc\u202Edef'],
    ['a first-strong isolate', 'abc\u2068def'],
    ['a left-to-right mark', 'Admin\u200E'],
    ['a Hangul filler', 'Ad\u3164min'],
    ['a tag character', 'Admin\u{E0041}'],
    ['a NUL', 'Ad\u0000min'],
    ['a line separator', 'Ad\u2028min'],
  ];
  for (const [what, name] of hostile) {
    it(`refuses ${what} with a message that says why`, () => {
      expect(normalizeDisplayName(name)).to.equal(null);
      const errors = validateRegistration({ username: 'ada', displayName: name, password: 'correct horse' });
      expect(errors.displayName).to.match(/invisible|control/i);
    });
  }

  const fine: [string, string][] = [
    ['an emoji ZWJ sequence', '👩\u200D💻'],
    ['a family emoji', '👨\u200D👩\u200D👧'],
    ['Persian with a zero-width non-joiner', 'می\u200Cخواهم'],
    ['Hindi with a joiner', 'क्\u200Dष'],
    ['a name with an accent', 'Zoë'],
  ];
  for (const [what, name] of fine) {
    it(`accepts ${what}`, () => {
      expect(normalizeDisplayName(name)).to.equal(name.normalize('NFC'));
      expect(validateRegistration({ username: 'ada', displayName: name, password: 'correct horse' })).to.deep.equal({});
    });
  }

  it('still says how long a name may be when it is too long', () => {
    expect(validateRegistration({ username: 'ada', displayName: 'x'.repeat(49), password: 'correct horse' }).displayName).to.match(/1–48 characters/);
  });
});

/** isSameOriginPath — what a browser would do with this Location stays on our origin. */
function isSameOriginPath(location: string): boolean {
  const base = 'https://hearth.example:8443';
  return location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\') && new URL(location, base).origin === base;
}

describe('safeNext', () => {
  const table: [unknown, string][] = [
    ['/r/quiet-otter-7xk2', '/r/quiet-otter-7xk2'],
    ['/r/x?a=1#b', '/r/x?a=1#b'],
    ['/r/./x', '/r/x'],
    ['/r/a/../x', '/r/x'],
    ['', '/'],
    [undefined, '/'],
    [['/a', '/b'], '/'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected}`, () => expect(safeNext(input)).to.equal(expected));
  }

  /** HOSTILE_NEXT — return paths that must never lead off the origin, however they normalise. */
  const HOSTILE_NEXT = [
    '//evil.example', '//evil.example/path', '///evil.example', '/\\evil.example', '\\\\evil.example', '/\\/evil.example',
    'https://evil.example/', 'javascript:alert(1)', 'HTTPS:evil.example', ' //evil.example',
    '/.//evil.example/x', '/..//evil.example/x', '/%2e//evil.example/x', '/%2E//evil.example/x', '/%2e%2e//evil.example/x',
    '/%2E%2E//evil.example/x', '/.%2e//evil.example/x', '/././/evil.example/x', '/a/..//evil.example/x', '/a/b/../..//evil.example/x',
    '/.\\/evil.example', '/..\\evil.example', '/.\\\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example',
    '/.\t//evil.example', '/.%09//evil.example', '/\u0000/evil.example', `/${'a/'.repeat(1100)}`,
  ];
  for (const input of HOSTILE_NEXT) {
    it(`keeps ${JSON.stringify(input)} on this origin`, () => {
      const out = safeNext(input);
      expect(isSameOriginPath(out), out).to.equal(true);
    });
  }
});
