/**
 * A failure no retry can fix (a payload that fails its schema, an event on the wrong queue). The
 * worker turns it into BullMQ's UnrecoverableError; the domain code stays free of BullMQ.
 */
export class PermanentEventError extends Error {
  override name = "PermanentEventError";
  constructor(
    readonly code: "WORKER_INVALID_ENVELOPE" | "WORKER_WRONG_QUEUE" | "WORKER_INVALID_PAYLOAD",
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
