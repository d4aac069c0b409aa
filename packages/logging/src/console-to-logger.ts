import { format } from "node:util";
import type { Logger } from "pino";
import { redactEmailAddresses } from "./redact.ts";

/** The console methods libraries write through, and the pino level each one becomes. */
const levelOf = {
  log: "info",
  info: "info",
  debug: "debug",
  warn: "warn",
  error: "error",
} as const;

export type ConsoleMethod = keyof typeof levelOf;

/**
 * Sends what libraries print with `console.log/info/debug/warn/error` through `logger`, so that
 * every line an app writes is pino JSON. BullMQ, for one, `console.warn`s
 * `IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"` once per Redis connection,
 * in plain text on stderr, and ioredis `console.error`s an unhandled error event.
 *
 * Each call becomes one line at the matching level (`log`/`info` → info, `debug`, `warn`, `error`)
 * with `"source":"console"`; its arguments are formatted as `console` would (`util.format`) into
 * `msg`, with email addresses replaced by `[email]`. An `Error` argument is logged as `err` (so it
 * goes through the logger's error serializer: no Redis command arguments, no addresses) and its
 * message is the line's `msg` when nothing else was passed. A console call made while the logger
 * itself is writing (should pino or a stream ever print) goes to the original method instead of
 * looping.
 *
 * @param target the console to patch; the global one unless a test passes its own.
 * @returns a function that puts the original methods back.
 */
export function routeConsoleToLogger(
  logger: Logger,
  target: Pick<Console, ConsoleMethod> = console,
): () => void {
  const consoleLogger = logger.child({ source: "console" });
  const originals = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  let writing = false;
  for (const method of Object.keys(levelOf) as ConsoleMethod[]) {
    const original = target[method];
    originals.set(method, original);
    const level = levelOf[method];
    target[method] = (...args: unknown[]) => {
      if (writing) {
        original.apply(target, args);
        return;
      }
      writing = true;
      try {
        const err = args.find((arg): arg is Error => arg instanceof Error);
        const rest = err === undefined ? args : args.filter((arg) => arg !== err);
        const msg = redactEmailAddresses(rest.length > 0 ? format(...rest) : (err?.message ?? ""));
        if (err === undefined) consoleLogger[level](msg);
        else consoleLogger[level]({ err }, msg);
      } finally {
        writing = false;
      }
    };
  }
  return () => {
    for (const [method, original] of originals) target[method] = original;
  };
}
