// Every form Hearth renders, found by crawling its pages as an admin and a room owner: each POST form carries a CSRF token, and none is accepted without one or with another session's.
import { expect } from 'chai';
import { useWorld } from '../helpers/world.js';
import type { HttpClient } from '../helpers/http-client.js';

interface FoundForm {
  page: string;
  action: string;
  fields: Record<string, string>;
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** postForms — every `<form method="post">` on a page, with its hidden fields. */
function postForms(page: string, html: string): FoundForm[] {
  const found: FoundForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attrs = m[1]!;
    if (!/method="post"/i.test(attrs)) continue;
    const action = decode(/action="([^"]*)"/.exec(attrs)?.[1] ?? page);
    const fields: Record<string, string> = {};
    for (const input of m[2]!.matchAll(/<input\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1]!)?.[1];
      const value = /value="([^"]*)"/.exec(input[1]!)?.[1];
      if (name && /type="hidden"/.test(input[1]!)) fields[name] = decode(value ?? '');
    }
    found.push({ page, action, fields });
  }
  return found;
}

describe('every form has CSRF protection (real HTTPS + Redis)', function () {
  this.timeout(60_000);
  const world = useWorld();

  it('finds the forms of every page, each with a token, and refuses each without one or with a foreign one', async () => {
    const admin = await world.person('root'); // the first account: admin
    const other = await world.person('ben');
    const csrf = await admin.http.csrfToken('/');
    const created = await admin.http.postForm('/rooms', { _csrf: csrf, name: 'Crawl room', capacity: '4', passcode: '' });
    expect(created.status).to.equal(303);
    const room = String(created.headers.location);
    // Content for the admin page's rows: an invite link, a second person, a room.
    const invite = await admin.http.postForm('/admin/invites', { _csrf: csrf, uses: '1', expiry: '1d' });
    expect(invite.status).to.equal(303);

    const pages = ['/', '/account', '/admin', '/admin/status', room];
    const forms: FoundForm[] = [];
    for (const page of pages) {
      const r = await admin.http.get(page);
      expect(r.status, page).to.equal(200);
      forms.push(...postForms(page, r.body));
    }
    const anonymous = world.client();
    for (const page of ['/login', '/register']) {
      const r = await anonymous.get(page);
      forms.push(...postForms(page, r.body));
    }
    // The crawl found the forms this issue added, not just a few.
    const actions = new Set(forms.map((f) => f.action.split('?')[0]));
    for (const expected of ['/logout', '/rooms', '/login', '/register']) expect(actions, expected).to.include(expected);
    expect([...actions].filter((a) => a!.startsWith('/account')).length, 'account forms').to.be.at.least(3);
    expect([...actions].filter((a) => a!.startsWith('/admin')).length, 'admin forms').to.be.at.least(5);
    expect([...actions].filter((a) => a!.startsWith(room)).length, 'room forms').to.be.at.least(2);

    for (const f of forms) expect(f.fields._csrf, `${f.page} → ${f.action} has no CSRF field`).to.be.a('string').and.not.equal('');

    const foreign = await other.http.csrfToken('/');
    const post = (who: HttpClient, f: FoundForm, token?: string) => {
      const { _csrf: _omit, ...rest } = f.fields;
      return who.postForm(f.action, token === undefined ? rest : { ...rest, _csrf: token });
    };
    for (const f of forms) {
      const who = f.page === '/login' || f.page === '/register' ? anonymous : admin.http;
      expect((await post(who, f)).status, `${f.action} without a token`).to.equal(403);
      expect((await post(who, f, foreign)).status, `${f.action} with another session's token`).to.equal(403);
    }
    // Nothing happened: the admin is still signed in, an admin, and the room still exists.
    expect((await admin.http.get(room)).status).to.equal(200);
    expect((await world.hearth.app.users.findById(admin.id))?.isAdmin).to.equal(true);
  });
});
