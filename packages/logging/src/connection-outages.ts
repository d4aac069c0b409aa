import type { EventEmitter } from "node:events";
import type { Logger } from "pino";

/**
 * Logs a connection's outage once and its recovery once: ioredis repeats the same error on every
 * reconnect attempt, which would otherwise flood the logs during an outage.
 */
export function logConnectionOutages(connection: EventEmitter, logger: Logger, name: string): void {
  let down = false;
  connection.on("error", (error: unknown) => {
    if (!down) logger.error({ err: error }, `${name} connection error`);
    down = true;
  });
  connection.on("ready", () => {
    if (down) logger.info(`${name} connection restored`);
    down = false;
  });
}
