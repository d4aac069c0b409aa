import type { Envelope } from "@fanfare-relay/events/envelope";
import { allQueueNames, type QueueName } from "@fanfare-relay/events/families";
import { Queue, type JobsOptions } from "bullmq";
import { jobIdForEvent } from "./job-id.ts";
import {
  DEFAULT_COMPLETED_RETENTION_SECONDS,
  defaultJobOptions,
  type RetentionOptions,
} from "./job-options.ts";
import { sharedQueueOptions } from "./queue-settings.ts";
import { RETRY_SPAN_SECONDS } from "./retry-schedule.ts";
import { bullPrefix, queueKeyBase } from "./queue-keys.ts";
import type { RedisConnection } from "./redis-connection.ts";
import { routeEventType } from "./routing.ts";

export const DEFAULT_PREFIX = "fanfare";

export interface EventProducerOptions extends RetentionOptions {
  /**
   * A connection made with `createProducerConnection` (one node, Sentinel or a cluster); the caller
   * owns and closes it.
   */
  connection: RedisConnection;
  /** REDIS_PREFIX, without braces: each queue's keys get their own hash tag (see queue-keys). */
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

/** A BullMQ queue whose adds skip the telemetry wrapper of `add`: the producer sets no telemetry. */
class ProducerQueue extends Queue {
  /** `add` without its tracing span: BullMQ's own `addJob`, one async hop less per event. */
  addUntraced(name: string, data: unknown, opts: JobsOptions): Promise<unknown> {
    return this.addJob(name, data, opts);
  }
}

/** Puts verified envelopes on their family's queue, one job per event id. */
export class EventProducer {
  readonly queues: ReadonlyMap<QueueName, ProducerQueue>;
  readonly #connection: RedisConnection;
  readonly #seenTtlSeconds: number;
  /** `<queue key base>:seen:` per queue (the queue's slot), so a marker's key is one concatenation. */
  readonly #seenPrefixes: ReadonlyMap<QueueName, string>;

  constructor({
    connection,
    prefix = DEFAULT_PREFIX,
    onError,
    ...retention
  }: EventProducerOptions) {
    this.#connection = connection;
    // A job is kept for the retention *after* it completes, which can be the whole retry span
    // after it was added; the marker lives as long so the two agree on what was seen.
    this.#seenTtlSeconds =
      (retention.completedRetentionSeconds ?? DEFAULT_COMPLETED_RETENTION_SECONDS) +
      RETRY_SPAN_SECONDS;
    this.#seenPrefixes = new Map(
      allQueueNames.map((name) => [name, `${queueKeyBase(prefix, name)}:seen:`]),
    );
    const jobOptions = defaultJobOptions(retention);
    this.queues = new Map(
      allQueueNames.map((name) => {
        const queue = new ProducerQueue(name, {
          ...sharedQueueOptions,
          connection,
          prefix: bullPrefix(prefix, name),
          defaultJobOptions: jobOptions,
        });
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
   * The marker is set with `SET NX` in the same round trip as the add: among concurrent deliveries
   * of one event, each add either stores the job or finds it stored, and exactly one wins the
   * marker. When Redis refuses the add (out of memory, a failover), a marker this call set is
   * deleted again, so the sender's redelivery, the first to store the job, is not told
   * `duplicate`. A marker that cannot be written after a stored job counts as a first delivery.
   */
  async enqueue(envelope: Envelope): Promise<EnqueueResult> {
    const { queueName, known } = routeEventType(envelope.type);
    const jobId = jobIdForEvent(envelope.id);
    const queue = this.queues.get(queueName);
    const seenPrefix = this.#seenPrefixes.get(queueName);
    if (!queue || seenPrefix === undefined) throw new Error(`no queue named ${queueName}`);
    // BullMQ waits, without limit, for a connection that has never been ready; a producer must
    // fail at once instead, like its commands do once the connection has dropped.
    if (this.#connection.status !== "ready") {
      throw new RedisUnavailableError(`redis connection is ${this.#connection.status}`);
    }
    // Both commands go out in the same pipelined write (one round trip, not two). The marker's
    // promise never rejects, so it cannot go unhandled while the add is awaited.
    const seenKey = seenPrefix + jobId;
    const marked = this.#markSeen(seenKey);
    try {
      await queue.addUntraced(envelope.type, envelope, { jobId });
    } catch (error) {
      // A marker left by a refused add (Redis out of memory) would make the sender's redelivery
      // answer "duplicate" for an event never stored.
      if ((await marked) === true) {
        await this.#connection.del(seenKey).catch(() => undefined);
      }
      throw error;
    }
    // A marker that could not be written after a stored job counts as a first delivery.
    const firstSeen = (await marked) ?? true;
    return { queueName, jobId, known, duplicate: !firstSeen };
  }

  /** True when this call set the marker, false when it existed, undefined when the SET failed. */
  #markSeen(seenKey: string): Promise<boolean | undefined> {
    return this.#connection.set(seenKey, "1", "EX", this.#seenTtlSeconds, "NX").then(
      (reply) => reply === "OK",
      () => undefined,
    );
  }

  /** Resolves once Redis is reachable and every queue is initialised; enqueue fails fast before. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.waitUntilReady()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
