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

describe('safeNext', () => {
  const table: [unknown, string][] = [
    ['/r/quiet-otter-7xk2', '/r/quiet-otter-7xk2'],
    ['/r/x?a=1#b', '/r/x?a=1#b'],
    ['//evil.example', '/'],
    ['//evil.example/path', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/\t/evil.example', '/'],
    ['', '/'],
    [undefined, '/'],
    [['/a', '/b'], '/'],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${expected}`, () => expect(safeNext(input)).to.equal(expected));
  }
});
