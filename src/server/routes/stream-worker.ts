// Serves the stream service worker at a fixed URL (/files/sw.js): a service worker's URL is its
// identity (a content-hashed one would register a new worker per build) and bounds its scope.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Router } from 'express';
import type { Assets } from '../assets.js';
import { notFound } from '../http-error.js';
import { PUBLIC_DIR } from '../paths.js';

/** STREAM_SW_PATH — the worker's address (src/client/files/lib/stream-bridge.ts registers it). */
const STREAM_SW_PATH = '/files/sw.js';

/** streamWorkerRoutes — GET /files/sw.js: the built src/client/workers/stream-sw.ts. */
export function streamWorkerRoutes(assets: Assets): Router {
  const router = Router();
  const built = assets.workers?.['stream-sw'];
  let script: Promise<string> | null = null;
  router.get(STREAM_SW_PATH, async (_req, res) => {
    if (!built) throw notFound();
    script ??= readFile(path.join(PUBLIC_DIR, ...built.split('/').filter(Boolean)), 'utf8')
      // Its source map stays beside the bundle.
      .then((js) => js.replace(/^\/\/# sourceMappingURL=(\S+)$/m, (_m, map: string) => `//# sourceMappingURL=${path.posix.join(path.posix.dirname(built), map)}`));
    let js: string;
    try {
      js = await script;
    } catch {
      script = null;
      throw notFound();
    }
    res.set({
      'Content-Type': 'text/javascript; charset=utf-8',
      // The browser checks for a new worker on each registration; never a stale copy from a cache.
      'Cache-Control': 'no-cache',
      // The room pages (/r/…) and the files page (/files) each register it for their own scope.
      'Service-Worker-Allowed': '/',
    });
    res.send(js);
  });
  return router;
}
