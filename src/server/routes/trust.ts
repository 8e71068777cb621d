// The trust page (/trust) and the local CA (/ca.crt): anonymous, stateless, over HTTPS and, with HTTP_PORT, plain HTTP.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Assets } from '../assets.js';
import type { Config } from '../config.js';
import { HttpError } from '../http-error.js';
import type { PlainHandler } from '../http-server.js';
import { publicAddresses } from '../net/addresses.js';
import { PUBLIC_DIR, VIEWS_DIR } from '../paths.js';
import { qrSvg } from '../qr.js';
import { devicesInOrder } from '../tls/devices.js';
import { certSubjectAltNames } from '../tls/certs.js';

/** TrustDeps — what the trust page is made from: no Redis, no sessions. */
export interface TrustDeps {
  config: Config;
  assets: Assets;
}

/** LocalCa — what the page says about the local CA. */
interface LocalCa {
  /** SHA-256 of the certificate, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  name: string;
  validTo: Date;
}

/** localCa — CERTS_DIR/ca.crt, unless TLS_CERT replaces Hearth's own certificates (a CA left over would mislead). */
function localCa(config: Config): LocalCa | null {
  if (config.tlsCert) return null;
  try {
    const ca = new X509Certificate(readFileSync(path.join(config.certsDir, 'ca.crt')));
    const name = /^CN=(.*)$/m.exec(ca.subject)?.[1] ?? ca.subject;
    return { fingerprint: ca.fingerprint256, name, validTo: new Date(ca.validTo) };
  } catch {
    return null;
  }
}

/**
 * hearthAddress — the function giving the address to show a visitor (the first of publicAddresses):
 * `secure` says whether requests come over HTTPS (the Host's port is Hearth's) or plain HTTP
 * (HTTP_PORT); `httpsPort` is the port Hearth's HTTPS listens on. The certificate's names are read
 * once, on first use (it exists before Hearth listens): an address it leaves out would only warn.
 */
export function hearthAddress(config: Config, secure: boolean, httpsPort: (req: Request) => number): (req: Request) => string {
  let sans: string[] | undefined | null = null;
  return (req) => {
    if (sans === null) {
      try {
        sans = certSubjectAltNames(new X509Certificate(readFileSync(config.tlsCert ?? path.join(config.certsDir, 'server.crt'))));
      } catch {
        sans = undefined;
      }
    }
    return publicAddresses(config, { port: httpsPort(req), sans, requestHost: req.headers.host, requestSecure: secure })[0]!;
  };
}

/** overHttps — the HTTPS port a request over HTTPS came in on. */
export const overHttps = (config: Config) => (req: Request) => req.socket.localPort ?? config.port;

/** trustPage — the handler for GET /trust (see {@link hearthAddress} for `secure` and `httpsPort`). */
function trustPage(deps: TrustDeps, secure: boolean, httpsPort: (req: Request) => number): RequestHandler {
  const { config } = deps;
  const addressOf = hearthAddress(config, secure, httpsPort);
  let ca: LocalCa | null | undefined;
  return async (req, res) => {
    // Read once: the CA is made once and kept.
    if (ca === undefined) ca = localCa(config);
    const address = addressOf(req);
    res.set('Cache-Control', 'no-store');
    res.render('trust', {
      title: 'Trust this Hearth',
      ca,
      address,
      qr: await qrSvg(address),
      devices: devicesInOrder(req.get('user-agent')),
      overHttp: !secure,
    });
  };
}

/** caCertificate — GET /ca.crt: the local CA for devices to install; 404 when there is none. */
function caCertificate(config: Config): RequestHandler {
  return (_req, res, next) => {
    if (config.tlsCert) return next(noLocalCa());
    res.type('application/x-x509-ca-cert');
    res.sendFile(path.join(config.certsDir, 'ca.crt'), { dotfiles: 'deny' }, (err) => {
      if (err) next(noLocalCa());
    });
  };
}

const noLocalCa = () => new HttpError(404, 'No local CA', 'This Hearth uses a certificate you supplied (TLS_CERT); there is no local CA to download.');

/** trustRoutes — /trust and /ca.crt on Hearth's HTTPS app; mounted before sessions, so they create none. */
export function trustRoutes(deps: TrustDeps): Router {
  const router = Router();
  router.get('/trust', trustPage(deps, true, overHttps(deps.config)));
  router.get('/ca.crt', caCertificate(deps.config));
  return router;
}

/**
 * trustOverHttp — for HTTP_PORT: /trust, /ca.crt and the page's own stylesheet and icons over
 * plain HTTP, for a device that does not trust the CA yet; everything else goes to `fallback`
 * (the redirect to HTTPS). No cookies, no sessions, no Redis. `httpsPort` is Hearth's HTTPS port.
 */
export function trustOverHttp(deps: TrustDeps): (httpsPort: () => number) => PlainHandler {
  return (httpsPort) => {
    const app = express();
    app.disable('x-powered-by');
    app.set('views', VIEWS_DIR);
    app.set('view engine', 'pug');
    app.enable('view cache');
    app.locals.cssUrl = deps.assets.css;
    app.locals.iconsUrl = deps.assets.icons;
    app.use(helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        // No upgrade-insecure-requests: the stylesheet must come over this same plain connection.
        directives: {
          defaultSrc: ["'self'"], scriptSrc: ["'none'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: false,
      crossOriginEmbedderPolicy: false,
    }));
    const files = new Set([deps.assets.css, deps.assets.icons, '/favicon.svg']);
    app.use((req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !files.has(req.path)) return next();
      res.sendFile(path.join(PUBLIC_DIR, req.path), { maxAge: '1h' });
    });
    app.get('/trust', trustPage(deps, false, httpsPort));
    app.get('/ca.crt', caCertificate(deps.config));
    app.use(((err, _req, res, _next) => {
      res.status(err instanceof HttpError ? err.status : 500).type('text').send(err instanceof HttpError ? `${err.heading}: ${err.message}\n` : 'Something went wrong.\n');
    }) as express.ErrorRequestHandler);
    return (req, res, fallback) => app(req as Request, res as express.Response, fallback);
  };
}
