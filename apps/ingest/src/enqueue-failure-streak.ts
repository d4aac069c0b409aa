import type { FastifyBaseLogger } from "fastify";

/**
 * Logs a run of failed enqueues once when it starts and once when it ends. A Redis node that dies
 * leaves the connection "ready" (a cluster's other masters still answer, a Sentinel client is
 * between primaries), so the connection's own outage line never comes, and every delivery in
 * flight fails the same way: at tens of thousands a second one line each would bury the cause.
 */
export class EnqueueFailureStreak {
  #failures = 0;

  constructor(
    private readonly logger: FastifyBaseLogger,
    /** Counts each streak once, when it starts (e.g. the Redis outages counter). */
    private readonly onStart: () => void = () => undefined,
  ) {}

  /** One enqueue failed; `fields` (event id, type) go into the streak's first line only. */
  failed(error: unknown, fields: Record<string, unknown>): void {
    this.#failures += 1;
    if (this.#failures > 1) return;
    this.onStart();
    this.logger.warn(
      { ...fields, err: error },
      "enqueue failed; deliveries are answered 503 until Redis takes them again",
    );
  }

  /** One enqueue succeeded: ends a streak, if there was one. Cheap on the hot path. */
  succeeded(): void {
    if (this.#failures === 0) return;
    this.logger.info({ failed: this.#failures }, "enqueue works again");
    this.#failures = 0;
  }
}
