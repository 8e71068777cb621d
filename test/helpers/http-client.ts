// A tiny HTTPS client with a cookie jar, for integration tests against a real Hearth.
import { Agent, request } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  setCookies: string[];
}

/** HttpClient — one "browser": keeps cookies, trusts the test CA, never follows redirects. */
export class HttpClient {
  readonly cookies = new Map<string, string>();
  private readonly agent: Agent;

  constructor(readonly origin: string, ca: Buffer) {
    this.agent = new Agent({ connect: { ca, servername: 'localhost' } });
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('GET', path, undefined, headers);
  }

  /** postForm — a urlencoded POST, like a browser form submission. */
  async postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams(fields).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  /** csrfToken — loads `path` and returns the `_csrf` value of its first form. */
  async csrfToken(path = '/login'): Promise<string> {
    const page = await this.get(path);
    const m = /name="_csrf" value="([^"]+)"/.exec(page.body);
    if (!m?.[1]) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return m[1];
  }

  async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Reply> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await request(this.origin + path, {
      method,
      body,
      headers: { ...(cookie ? { cookie } : {}), ...headers },
      dispatcher: this.agent,
    });
    const text = await res.body.text();
    const raw = res.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const c of setCookies) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.statusCode, headers: res.headers as Reply['headers'], body: text, setCookies };
  }

  /** register — creates an account through the real form and stays signed in. */
  async register(username: string, password = 'correct horse battery', displayName = username): Promise<Reply> {
    const _csrf = await this.csrfToken('/register');
    return this.postForm('/register', { _csrf, username, displayName, password });
  }

  async login(username: string, password: string, next?: string): Promise<Reply> {
    const _csrf = await this.csrfToken('/login');
    return this.postForm(next ? `/login?next=${encodeURIComponent(next)}` : '/login', { _csrf, username, password });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
