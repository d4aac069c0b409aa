import type { Database } from "@fanfare-relay/db/schema";
import type { Queue } from "bullmq";
import type { Kysely } from "kysely";
import { claimDueDeadLetters } from "./dead-letters.ts";
import { requeueDeadLetter } from "./requeue-dead-letter.ts";

export interface RedriveOptions {
  db: Kysely<Database>;
  queue: Queue;
  /** A dead letter is re-driven once it has rested this long since it failed (or was re-driven). */
  afterMs: number;
  maxRedrives: number;
  batchSize?: number;
  onError?: (error: unknown, eventId: string) => void;
}

/** Puts due dead letters back on their queue (see requeueDeadLetter); returns how many. */
export async function redriveDeadLetters({
  db,
  queue,
  afterMs,
  maxRedrives,
  batchSize = 50,
  onError,
}: RedriveOptions): Promise<number> {
  const due = await claimDueDeadLetters(db, {
    queueName: queue.name,
    before: new Date(Date.now() - afterMs),
    maxRedrives,
    limit: batchSize,
  });
  let redriven = 0;
  for (const letter of due) {
    try {
      const outcome = await requeueDeadLetter(queue, letter);
      // Waiting, delayed or active: someone already retried it; it resolves the letter on success.
      if (outcome.action !== "untouched") redriven += 1;
    } catch (error) {
      // One letter's Redis trouble must not cost the rest of the batch their (counted) re-drive.
      onError?.(error, letter.event_id);
    }
  }
  return redriven;
}
