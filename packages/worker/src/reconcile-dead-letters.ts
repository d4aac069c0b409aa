import type { Database } from "@fanfare-relay/db/schema";
import type { Job, Queue } from "bullmq";
import type { RedisConnection } from "@fanfare-relay/queues/redis-connection";
import type { Kysely } from "kysely";
import { jobsWithOpenLetters } from "./dead-letters.ts";

export interface ReconcileOptions {
  db: Kysely<Database>;
  queue: Queue;
  /** A connection to the queue's Redis (the worker's own). */
  redis: RedisConnection;
  /** Failed jobs that finished at or after this time (epoch ms) are checked; -Infinity: all. */
  since: number;
  /**
   * Jobs that finished less than this long ago (ms) are left to the worker that failed them: a job
   * BullMQ fails by itself (stalled too often) gets its letter just after it enters the failed set.
   */
  graceMs: number;
  /** Failed jobs read from Redis per round trip. */
  pageSize?: number;
  /**
   * Writes the missing letter of a job that failed for good (and alerts when due); false when
   * none was due after all (its event was completed meanwhile).
   */
  record: (job: Job) => Promise<boolean>;
}

export interface ReconcileResult {
  /** Letters written. */
  written: number;
  /** Failed jobs looked at. */
  checked: number;
  /** Jobs that finished up to this time (epoch ms) were checked: the next round's `since`. */
  until: number;
}

/**
 * Compares BullMQ's failed set of a queue with `webhook_dead_letters` and writes the letters that
 * are missing. A job is in the failed set only once it failed for good (attempts exhausted,
 * unrecoverable, or stalled too often); one with no open letter for its job id lost its
 * bookkeeping (the database was unreachable, or its worker died before writing it).
 *
 * The failed set is a sorted set scored by the time each job finished, so a round reads only
 * the jobs that finished since `since`, a page at a time (keyset paging on the score: jobs
 * retried meanwhile leave the set without making the next page skip any), and asks PostgreSQL
 * about a whole page in one query. Throws on the first Redis or database error; the caller keeps
 * `since` and tries again on its next round.
 */
export async function reconcileDeadLetters({
  db,
  queue,
  redis,
  since,
  graceMs,
  pageSize = 200,
  record,
}: ReconcileOptions): Promise<ReconcileResult> {
  const until = Date.now() - graceMs;
  let min = since;
  // Ids already read whose score is `min`: the next page starts at `min` again (inclusive).
  let seenAtMin = new Set<string>();
  let written = 0;
  let checked = 0;
  for (;;) {
    const limit = pageSize + seenAtMin.size;
    const raw = await redis.zrangebyscore(
      queue.toKey("failed"),
      Number.isFinite(min) ? min : "-inf",
      until,
      "WITHSCORES",
      "LIMIT",
      0,
      limit,
    );
    const entries: [string, number][] = [];
    for (let index = 0; index + 1 < raw.length; index += 2) {
      entries.push([raw[index] ?? "", Number(raw[index + 1])]);
    }
    const page = entries.filter(([id]) => !seenAtMin.has(id));
    checked += page.length;
    const open = await jobsWithOpenLetters(
      db,
      queue.name,
      page.map(([id]) => id),
    );
    for (const [id] of page) {
      if (open.has(id)) continue;
      const job = await queue.getJob(id);
      // Retried or removed since the page was read: nothing failed for good to record.
      if (job?.finishedOn === undefined || (await job.getState()) !== "failed") continue;
      if (await record(job)) written += 1;
    }
    const last = page.at(-1);
    if (last !== undefined) {
      if (last[1] !== min) {
        min = last[1];
        seenAtMin = new Set();
      }
      for (const [id, score] of page) if (score === min) seenAtMin.add(id);
    }
    if (entries.length < limit) return { written, checked, until };
  }
}
