import type { Database } from "@fanfare-relay/db/schema";
import { eventIdForJob } from "@fanfare-relay/queues/job-id";
import type { Queue } from "bullmq";
import type { Kysely } from "kysely";

/** Completed jobs looked at per round trip (one Redis range read, one SQL query). */
export const CLEAN_PAGE_SIZE = 500;

export interface CleanResult {
  /** Jobs removed from Redis: each one's event is recorded `completed` in webhook_events. */
  removed: number;
  /** Completed jobs kept: their event has no `completed` row (or their id maps to no event). */
  kept: number;
}

const eventIdOrUndefined = (jobId: string) => {
  try {
    return eventIdForJob(jobId);
  } catch {
    return undefined;
  }
};

/** The given job ids whose event PostgreSQL records as `completed`. */
async function recordedCompleted(db: Kysely<Database>, jobIds: readonly string[]) {
  const byEvent = new Map<string, string>();
  for (const jobId of jobIds) {
    const eventId = eventIdOrUndefined(jobId);
    if (eventId !== undefined) byEvent.set(eventId, jobId);
  }
  if (byEvent.size === 0) return new Set<string>();
  const rows = await db
    .selectFrom("webhook_events")
    .select("event_id")
    .where("event_id", "in", [...byEvent.keys()])
    .where("status", "=", "completed")
    .execute();
  return new Set(rows.flatMap((row) => byEvent.get(row.event_id) ?? []));
}

/**
 * Removes the queue's completed jobs whose event is recorded `completed` in webhook_events, and
 * keeps the others: a job BullMQ calls completed whose effects PostgreSQL does not show is
 * evidence an operator needs. Reads the completed set in pages of CLEAN_PAGE_SIZE, newest first.
 * Replaces Bull Board's "Clean all" (BullMQ's Queue.clean), which removes whatever is in the set.
 *
 * @throws whatever Redis or PostgreSQL throw; jobs removed before the error stay removed.
 */
export async function cleanCompletedJobs(
  queue: Queue,
  db: Kysely<Database>,
  jobIds?: readonly string[],
): Promise<CleanResult> {
  let removed = 0;
  let kept = 0;
  let start = 0;
  for (;;) {
    const page =
      jobIds ??
      (await queue.getRanges(["completed"], start, start + CLEAN_PAGE_SIZE - 1, false)).filter(
        (id) => id !== "",
      );
    if (page.length === 0) break;
    const removable = await recordedCompleted(db, page);
    const outcomes = await Promise.all(
      page.map(async (jobId) => {
        // A job whose state changed since the page was read is left alone.
        if (!removable.has(jobId) || (await queue.getJobState(jobId)) !== "completed") return 0;
        return queue.remove(jobId);
      }),
    );
    const removedHere = outcomes.filter((outcome) => outcome === 1).length;
    removed += removedHere;
    kept += page.length - removedHere;
    // What was kept is still at the head of the set: the next page starts after it.
    start += page.length - removedHere;
    if (jobIds !== undefined || page.length < CLEAN_PAGE_SIZE) break;
  }
  return { removed, kept };
}
