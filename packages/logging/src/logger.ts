import { pino, type DestinationStream, type Logger } from "pino";
import { redactEmailAddresses } from "./redact.ts";

export type { Logger } from "pino";

type SerializedError = Record<string, unknown>;

/**
 * pino's error serializer, made safe for our logs: a Redis reply error (MOVED, OOM, READONLY …)
 * carries `command.args`, which for a BullMQ add is the whole Lua script and the job's payload
 * (about 10 KB of personal data a line), so only `command.name` is kept; and the message and stack
 * go through `redactEmailAddresses`, since SMTP and database errors quote addresses. A PostgreSQL
 * error's fields that quote row values or the statement (`detail`: "Key (email)=(…) already
 * exists", `where`: "JSON data, line 1: …" with the payload, `internalQuery`) are dropped, and its
 * `hint` is redacted; its `code`, `severity`, `routine`, `table`, `column` and `constraint` stay.
 * Nested errors (aggregate errors, error-valued fields) get the same treatment; a cause's own
 * fields are not serialized, only its message and stack, folded into the error's.
 */
export function serializeError(error: unknown): unknown {
  return sanitize(pino.stdSerializers.err(error as Error), 0);
}

// A stack frame's file path may look like an address to a loose pattern (pnpm's
// `node_modules/.pnpm/redis-parser@3.0.0/...`); frames never hold data, the message lines do.
const STACK_FRAME = /^\s+at /;

function redactStack(stack: string): string {
  return stack
    .split("\n")
    .map((line) => (STACK_FRAME.test(line) ? line : redactEmailAddresses(line)))
    .join("\n");
}

function sanitize(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null || depth > 4) return value;
  const serialized = value as SerializedError;
  if (typeof serialized.message === "string") {
    serialized.message = redactEmailAddresses(serialized.message);
  }
  if (typeof serialized.stack === "string") {
    serialized.stack = redactStack(serialized.stack);
  }
  // pg's DatabaseError (and PGlite's) fields that can quote values: never logged.
  delete serialized.detail;
  delete serialized.where;
  delete serialized.internalQuery;
  if (typeof serialized.hint === "string") {
    serialized.hint = redactEmailAddresses(serialized.hint);
  }
  const command = serialized.command;
  if (typeof command === "object" && command !== null) {
    const name = (command as { name?: unknown }).name;
    serialized.command = typeof name === "string" ? { name: redactEmailAddresses(name) } : {};
  }
  if (Array.isArray(serialized.aggregateErrors)) {
    serialized.aggregateErrors = serialized.aggregateErrors.map((inner) =>
      sanitize(inner, depth + 1),
    );
  }
  for (const key of Object.keys(serialized)) {
    const inner = serialized[key];
    if (
      key !== "aggregateErrors" &&
      typeof inner === "object" &&
      inner !== null &&
      "stack" in inner
    ) {
      serialized[key] = sanitize(inner, depth + 1);
    }
  }
  return serialized;
}

/**
 * JSON logs; the signature header, credentials and mail bodies are redacted should they ever be
 * logged, and errors logged as `err` go through `serializeError` (no Redis command arguments, no
 * email addresses). Writes are asynchronous: under load, lines logged while a write is pending go
 * out together in the next one instead of one blocking write per line. Pending lines are flushed
 * on exit.
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
      serializers: { err: serializeError },
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
