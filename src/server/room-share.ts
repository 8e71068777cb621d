// The room page's Share panel: the room's address as people on the LAN should open it, and its QR code.
import type { Request } from 'express';
import type { Config } from './config.js';
import { qrSvg } from './qr.js';
import { hearthAddress, overHttps } from './routes/trust.js';

/** RoomShare — what the Share panel shows: the room's URL and its QR code (SVG, named "QR code for <URL>"). */
export interface RoomShare {
  url: string;
  qr: string;
}

/** roomSharer — for each room page: its URL from Hearth's best address for this visitor (their own way in unless it is loopback). */
export function roomSharer(config: Config): (req: Request, slug: string) => Promise<RoomShare> {
  const addressOf = hearthAddress(config, true, overHttps(config));
  return async (req, slug) => {
    const url = `${addressOf(req)}r/${encodeURIComponent(slug)}`;
    return { url, qr: await qrSvg(url) };
  };
}
