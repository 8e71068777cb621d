// Status island: reads /admin/status.json every 2 s and keeps the server-rendered figures and their charts current.
import { readFigures, StatusHistory } from '../status/lib/history.js';
import { StatusView } from '../status/ui/status-view.js';

/** How often the figures are read while the page is visible. */
const EVERY_MS = 2_000;

/** mount — starts reading; returns the teardown. */
export function mount(root: HTMLElement): () => void {
  const view = new StatusView(root);
  const history = new StatusHistory();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let reading: AbortController | null = null;

  const read = async (): Promise<void> => {
    timer = undefined;
    reading = new AbortController();
    let signedOut = false;
    try {
      const res = await fetch('/admin/status.json', { headers: { accept: 'application/json' }, cache: 'no-store', signal: reading.signal });
      // A session that ended is sent to the sign-in page (an HTML answer), or refused.
      signedOut = res.redirected || res.status === 401 || res.status === 403;
      const figures = res.ok && !signedOut ? readFigures(await res.json()) : null;
      if (figures) {
        const shown = history.add(figures);
        if (shown) view.show(shown, history);
        view.readAt(figures.at);
        view.redisDown(!figures.redis.up);
        view.problem(null);
      } else {
        view.problem(res.status === 403 ? 'These figures are for admins only; this account no longer is one.'
          : signedOut ? 'Your session has ended: reload the page and sign in again to see the figures.'
            : res.status === 503 ? "Hearth's database (Redis) is not answering, so the figures cannot be read; trying again."
              : `Hearth answered ${res.status}; trying again.`);
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      view.problem('Hearth is not answering; trying again every few seconds.');
    } finally {
      reading = null;
    }
    if (!stopped && !signedOut) schedule();
  };

  const schedule = () => {
    // A hidden tab reads nothing; it reads at once when it is shown again.
    if (stopped || document.hidden || timer !== undefined || reading) return;
    timer = setTimeout(() => void read(), EVERY_MS);
  };
  const onVisibility = () => {
    if (document.hidden || timer !== undefined || reading) return;
    void read();
  };
  document.addEventListener('visibilitychange', onVisibility);
  void read();

  return () => {
    stopped = true;
    clearTimeout(timer);
    reading?.abort();
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

const root = document.querySelector<HTMLElement>('[data-island="status"]');
if (root) mount(root);
