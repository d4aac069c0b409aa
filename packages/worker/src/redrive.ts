import type { Database } from "@fanfare-relay/db/schema";
import { defaultJobOptions } from "@fanfare-relay/queues/job-options";
import type { Queue } from "bullmq";
import type { Kysely } from "kysely";
import { claimDueDeadLetters } from "./dead-letters.ts";

export interface RedriveOptions {
  db: Kysely<Database>;
  queue: Queue;
  /** A dead letter is re-driven once it has rested this long since it failed (or was re-driven). */
  afterMs: number;
  maxRedrives: number;
  batchSize?: number;
}

/**
 * Puts due dead letters back on their queue: the failed job itself when BullMQ still has it (so
 * the dashboard shows one job with its history), a new job with the same id when it was removed.
 * Returns how many were re-driven.
 */
export async function redriveDeadLetters({
  db,
  queue,
  afterMs,
  maxRedrives,
  batchSize = 50,
}: RedriveOptions): Promise<number> {
  const due = await claimDueDeadLetters(db, {
    queueName: queue.name,
    before: new Date(Date.now() - afterMs),
    maxRedrives,
    limit: batchSize,
  });
  let redriven = 0;
  for (const letter of due) {
    const job = await queue.getJob(letter.job_id);
    if (job === undefined) {
      await queue.add(letter.type, letter.payload, {
        ...defaultJobOptions(),
        jobId: letter.job_id,
      });
      redriven += 1;
      continue;
    }
    const state = await job.getState();
    // Waiting, delayed or active: someone already retried it; it resolves the letter on success.
    if (state === "failed" || state === "completed") {
      await job.retry(state);
      redriven += 1;
    }
  }
  return redriven;
}
