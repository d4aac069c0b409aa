import { pino, type Logger } from "pino";

/** JSON logs; the signature header and any credentials are redacted should they ever be logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "ingest" },
    redact: {
      paths: [
        'req.headers["x-fanfare-signature"]',
        "req.headers.authorization",
        "req.headers.cookie",
      ],
      censor: "[redacted]",
    },
  });
}
