// Structured logging (pino) with secrets redacted, so no password or cookie ever reaches a log.
import { pino, type Logger } from 'pino';

export type { Logger };

/** createLogger — a pino logger that redacts credentials wherever they appear in a log object. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'hearth' },
    redact: {
      paths: [
        'password', '*.password', 'passcode', '*.passcode',
        'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
        'headers.cookie', 'cookie', 'sid', '*.sid',
      ],
      censor: '[redacted]',
    },
  });
}
