import type { EventEmitter } from "node:events";
import type { Logger } from "pino";

export interface ConnectionOutageHooks {
  /** Called once when an outage starts (e.g. to count it in a metric). */
  onDown?: () => void;
  /** Called once when the connection is back after an outage. */
  onUp?: () => void;
}

/**
 * Logs a connection's outage once and its recovery once: ioredis repeats the same error on every
 * reconnect attempt, which would otherwise flood the logs during an outage. Returns a function
 * telling whether the connection is known to be down (an outage was logged and has not ended), so
 * that callers can stay quiet about failures the outage line already explains.
 */
export function logConnectionOutages(
  connection: EventEmitter,
  logger: Logger,
  name: string,
  hooks: ConnectionOutageHooks = {},
): () => boolean {
  let down = false;
  connection.on("error", (error: unknown) => {
    if (down) return;
    down = true;
    logger.error({ err: error }, `${name} connection error`);
    hooks.onDown?.();
  });
  connection.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info(`${name} connection restored`);
    hooks.onUp?.();
  });
  return () => down;
}
