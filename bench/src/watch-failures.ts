// Failed job attempts on the five family queues, with their reasons, from BullMQ's events
// stream: an attempt that will be retried is announced as "delayed" (its reason stays in the job's
// hash as failedReason), a final failure as "failed". A retried event's row in webhook_events
// keeps no error once it completes, so this is where the reasons are found.
import { families, familyQueueNames } from "@fanfare-relay/events/families";
import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { bullPrefix, queueKeyBase } from "@fanfare-relay/queues/queue-keys";

export interface FailureReport {
  /** Attempts that failed and were scheduled for a retry. */
  retried: number;
  /** Jobs that failed for good. */
  failed: number;
  /** Both, by reason (BullMQ's failedReason). */
  reasons: Map<string, number>;
}

export interface FailureWatch {
  /** Stops listening and reads the reasons of the retried attempts from their jobs. */
  close(redis: Redis): Promise<FailureReport>;
}

/** Resolves listening from now on; one blocking Redis connection per queue. */
export async function watchFailures(redisUrl: string, prefix: string): Promise<FailureWatch> {
  const { hostname, port } = new URL(redisUrl);
  const reasons = new Map<string, number>();
  const count = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const retriedJobs: string[] = [];
  let failed = 0;
  const listeners = families.map((family) => {
    const queueName = familyQueueNames[family];
    const events = new QueueEvents(queueName, {
      connection: { host: hostname, port: Number(port || 6379) },
      prefix: bullPrefix(prefix, queueName),
    });
    events.on("delayed", ({ jobId }) => {
      retriedJobs.push(`${queueKeyBase(prefix, queueName)}:${jobId}`);
    });
    events.on("failed", ({ failedReason }) => {
      failed += 1;
      count(failedReason);
    });
    return events;
  });
  await Promise.all(listeners.map((listener) => listener.waitUntilReady()));
  let closed: Promise<unknown> | undefined;
  return {
    async close(redis) {
      await (closed ??= Promise.all(listeners.map((listener) => listener.close())));
      if (retriedJobs.length > 0) {
        const pipeline = redis.pipeline();
        for (const key of retriedJobs) pipeline.hget(key, "failedReason");
        for (const [, reason] of (await pipeline.exec()) ?? []) {
          count(typeof reason === "string" ? reason : "(reason not kept)");
        }
      }
      return { retried: retriedJobs.length, failed, reasons };
    },
  };
}
