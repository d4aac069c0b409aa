import { pino, type DestinationStream, type Logger } from "pino";

/**
 * JSON logs; the signature header and any credentials are redacted should they ever be logged.
 * Writes are asynchronous: under load, lines logged while a write is pending go out together in
 * the next one instead of one blocking write per line. Pending lines are flushed on exit.
 */
export function createLogger(
  level: string,
  destination: DestinationStream = pino.destination({ dest: 1, sync: false }),
): Logger {
  return pino(
    {
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
    },
    destination,
  );
}
