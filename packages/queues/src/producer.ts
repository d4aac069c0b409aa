import type { Envelope } from "@fanfare-relay/events/envelope";
import { allQueueNames, type QueueName } from "@fanfare-relay/events/families";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { jobIdForEvent } from "./job-id.ts";
import {
  DEFAULT_COMPLETED_RETENTION_SECONDS,
  defaultJobOptions,
  type RetentionOptions,
} from "./job-options.ts";
import { RETRY_SPAN_SECONDS } from "./retry-schedule.ts";
import { routeEventType } from "./routing.ts";

export const DEFAULT_PREFIX = "fanfare";

export interface EventProducerOptions extends RetentionOptions {
  /** A connection made with `createProducerConnection`; the caller owns and closes it. */
  connection: Redis;
  /** BullMQ key prefix; use a hash tag such as `{fanfare}` on Redis Cluster. */
  prefix?: string;
  onError?: (error: Error, queueName: QueueName) => void;
}

export interface EnqueueResult {
  queueName: QueueName;
  jobId: string;
  /** False when the type is not in the catalogue and the event went to `fanfare-unrouted`. */
  known: boolean;
  /** True when this event id had already been received. */
  duplicate: boolean;
}

/** Redis cannot take the job right now; the caller should ask the sender to retry. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** Puts verified envelopes on their family's queue, one job per event id. */
export class EventProducer {
  readonly queues: ReadonlyMap<QueueName, Queue>;
  readonly #connection: Redis;
  readonly #prefix: string;
  readonly #seenTtlSeconds: number;

  constructor({
    connection,
    prefix = DEFAULT_PREFIX,
    onError,
    ...retention
  }: EventProducerOptions) {
    this.#connection = connection;
    this.#prefix = prefix;
    // A job is kept for the retention *after* it completes, which can be the whole retry span
    // after it was added; the marker lives as long so the two agree on what was seen.
    this.#seenTtlSeconds =
      (retention.completedRetentionSeconds ?? DEFAULT_COMPLETED_RETENTION_SECONDS) +
      RETRY_SPAN_SECONDS;
    const jobOptions = defaultJobOptions(retention);
    this.queues = new Map(
      allQueueNames.map((name) => {
        const queue = new Queue(name, { connection, prefix, defaultJobOptions: jobOptions });
        queue.on("error", (error) => onError?.(error, name));
        return [name, queue];
      }),
    );
  }

  /**
   * Resolves once Redis has stored the job; rejects (RedisUnavailableError, or Redis's own reply
   * error such as OOM) when it has not, leaving no trace of this delivery. The job id is what
   * guarantees one job per event; the "seen" marker only tells the caller whether to report a
   * duplicate, so losing or racing it can never lose or double an event.
   *
   * The marker is set only once the add has succeeded: set alongside it, a refused add (Redis out
   * of memory, a failover) would leave the marker behind and the sender's redelivery, the first to
   * store the job, would be told `duplicate`. Among concurrent deliveries of one event, each add
   * either stores the job or finds it stored, and exactly one of those that succeeded wins the
   * marker. A marker that cannot be written after a stored job counts as a first delivery.
   */
  async enqueue(envelope: Envelope): Promise<EnqueueResult> {
    const { queueName, known } = routeEventType(envelope.type);
    const jobId = jobIdForEvent(envelope.id);
    const queue = this.queues.get(queueName);
    if (!queue) throw new Error(`no queue named ${queueName}`);
    // BullMQ waits, without limit, for a connection that has never been ready; a producer must
    // fail at once instead, like its commands do once the connection has dropped.
    if (this.#connection.status !== "ready") {
      throw new RedisUnavailableError(`redis connection is ${this.#connection.status}`);
    }
    // Both commands go out in the same pipelined write (one round trip, not two).
    const [added, marked] = await Promise.allSettled([
      queue.add(envelope.type, envelope, { jobId }),
      this.#markSeen(queueName, jobId),
    ]);
    if (added.status === "rejected") {
      // A marker left by a refused add (Redis out of memory) would make the sender's redelivery
      // answer "duplicate" for an event never stored.
      if (marked.status === "fulfilled" && marked.value) {
        await this.#connection.del(this.#seenKey(queueName, jobId)).catch(() => undefined);
      }
      throw added.reason;
    }
    const firstSeen = marked.status === "fulfilled" ? marked.value : true;
    return { queueName, jobId, known, duplicate: !firstSeen };
  }

  #seenKey(queueName: QueueName, jobId: string): string {
    return `${this.#prefix}:${queueName}:seen:${jobId}`;
  }

  async #markSeen(queueName: QueueName, jobId: string): Promise<boolean> {
    const reply = await this.#connection.set(
      this.#seenKey(queueName, jobId),
      "1",
      "EX",
      this.#seenTtlSeconds,
      "NX",
    );
    return reply === "OK";
  }

  /** Resolves once Redis is reachable and every queue is initialised; enqueue fails fast before. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.waitUntilReady()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
