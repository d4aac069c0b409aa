import closeWithGrace from "close-with-grace";
import type { Logger } from "pino";

export interface ShutdownReason {
  /** The signal that started the shutdown; undefined when an uncaught error did. */
  signal?: NodeJS.Signals | undefined;
  err?: Error | undefined;
}

export interface GracefulShutdownOptions {
  logger: Logger;
  /** Hard limit for `close`, in ms; past it the process exits 1. */
  timeoutMs: number;
}

/**
 * Runs `close` once, on the first SIGTERM or SIGINT (or an uncaught error), then exits 0 (1 after
 * an error or the timeout). A supervisor that signals the whole process group delivers SIGTERM more
 * than once (directly, and relayed by a wrapper such as pnpm or tsx): repeated SIGTERMs are logged
 * and ignored so the drain finishes. A second SIGINT is a person pressing Ctrl-C again: exit 1 now.
 * close-with-grace (which handles errors, the timeout and the exit code) would exit 1 on any
 * second signal, so signals are taken here.
 */
export function onGracefulShutdown(
  { logger, timeoutMs }: GracefulShutdownOptions,
  close: (reason: ShutdownReason) => Promise<void>,
): void {
  let signal: NodeJS.Signals | undefined;
  let started = false;
  const grace = closeWithGrace(
    { delay: timeoutMs, logger, skip: ["SIGTERM", "SIGINT"] },
    async ({ err }) => {
      started = true;
      await close({ signal, err });
    },
  );
  const onSignal = (received: NodeJS.Signals) => {
    if (!started) {
      started = true;
      signal = received;
      grace.close();
      return;
    }
    if (received === "SIGINT" && signal === "SIGINT") {
      logger.error("second SIGINT: exiting without finishing the shutdown");
      process.exit(1);
    }
    logger.info({ signal: received }, "already shutting down; signal ignored");
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
