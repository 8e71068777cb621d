// Pages for signed-in users: the lobby (and, later, rooms).
import { Router } from 'express';
import type { Assets } from '../assets.js';
import type { Config } from '../config.js';

export interface PageRoutesDeps {
  config: Config;
  assets: Assets;
}

/** pageRoutes — routes that need a signed-in user (the caller enforces that). */
export function pageRoutes(deps: PageRoutesDeps): Router {
  const router = Router();
  const script = (island: string) => (deps.assets.islands[island] ? [deps.assets.islands[island]] : []);

  router.get('/', (_req, res) => {
    res.render('lobby', {
      title: 'Lobby',
      island: 'lobby',
      scripts: script('lobby'),
      online: [],
      liveRooms: [],
      myRooms: [],
      newRoom: { errors: {}, values: { name: '', capacity: 6, passcode: '' } },
    });
  });

  return router;
}
