import { defaultJobOptions } from "@fanfare-relay/queues/job-options";
import type { JobState, Queue } from "bullmq";

export interface RequeueLetter {
  type: string;
  job_id: string;
  payload: unknown;
}

export type RequeueOutcome =
  /** The job BullMQ kept was moved back to waiting, with its history. */
  | { action: "retried"; from: "failed" | "completed" }
  /** BullMQ no longer had the job: a new one with the same id and the stored payload. */
  | { action: "re-added" }
  /** Already waiting, delayed or running (someone retried it first): left alone. */
  | { action: "untouched"; state: JobState | "unknown" };

/**
 * Puts a dead letter's event back on its queue: the failed job itself when BullMQ still has it (so
 * the dashboard shows one job with its history), a new job with the same id when it was removed.
 * A retried job gets one more attempt (its attempts are not reset); a failure records the dead
 * letter again. Used by the scheduled re-drive and by `fanfare-relay dead-letters replay`.
 */
export async function requeueDeadLetter(
  queue: Queue,
  letter: RequeueLetter,
): Promise<RequeueOutcome> {
  const job = await queue.getJob(letter.job_id);
  if (job === undefined) {
    await queue.add(letter.type, letter.payload, {
      ...defaultJobOptions(),
      jobId: letter.job_id,
    });
    return { action: "re-added" };
  }
  const state = await job.getState();
  if (state !== "failed" && state !== "completed") return { action: "untouched", state };
  try {
    await job.retry(state);
    return { action: "retried", from: state };
  } catch (error) {
    // The dashboard or the scheduled re-drive moved it between our two reads.
    const now = await job.getState();
    if (now === "failed" || now === "completed") throw error;
    return { action: "untouched", state: now };
  }
}
