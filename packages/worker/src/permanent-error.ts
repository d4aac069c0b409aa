/**
 * A failure no retry can fix (a payload that fails its schema, an event on the wrong queue, a
 * value PostgreSQL refuses to store: `WORKER_UNSTORABLE_EVENT`). The
 * worker turns it into BullMQ's UnrecoverableError; the domain code stays free of BullMQ.
 */
export class PermanentEventError extends Error {
  override name = "PermanentEventError";
  constructor(
    readonly code:
      | "WORKER_INVALID_ENVELOPE"
      | "WORKER_WRONG_QUEUE"
      | "WORKER_INVALID_PAYLOAD"
      | "WORKER_UNSTORABLE_EVENT",
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
