import type { FastifyBaseLogger } from "fastify";

/**
 * Logs a run of failed enqueues to one queue once when it starts and once when it ends. A Redis
 * node that dies leaves the connection "ready" (a cluster's other masters still answer), so the
 * connection's own outage line never comes, and every delivery in flight to that node's queues
 * fails the same way: at tens of thousands a second one line each would bury the cause. Kept per
 * queue, because on a cluster the queues of the other masters go on succeeding meanwhile.
 */
export class EnqueueFailureStreak {
  /** Queue → failures since its streak started. */
  readonly #failing = new Map<string, number>();

  constructor(
    private readonly logger: FastifyBaseLogger,
    /** Called once per streak, when it starts (the Redis outages counter). */
    private readonly onStart: () => void = () => undefined,
  ) {}

  /** One enqueue to `queue` failed; `fields` (event id, type) go into the streak's first line only. */
  failed(queue: string, error: unknown, fields: Record<string, unknown>): void {
    const failures = (this.#failing.get(queue) ?? 0) + 1;
    this.#failing.set(queue, failures);
    if (failures > 1) return;
    this.onStart();
    this.logger.warn(
      { ...fields, queue, err: error },
      "enqueue failed; deliveries are answered 503 until Redis takes them again",
    );
  }

  /** One enqueue to `queue` succeeded: ends its streak, if there was one. Cheap on the hot path. */
  succeeded(queue: string): void {
    if (this.#failing.size === 0) return;
    const failures = this.#failing.get(queue);
    if (failures === undefined) return;
    this.#failing.delete(queue);
    this.logger.info({ queue, failed: failures }, "enqueue works again");
  }
}
