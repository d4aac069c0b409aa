import type { Database, DeadLetter } from "@fanfare-relay/db/schema";
import type { Kysely } from "kysely";

export type DeadLetterRow = Omit<DeadLetter, "payload">;

export interface ListFilter {
  /** Resolved letters too; by default only the open ones. */
  all: boolean;
  queue?: string | undefined;
}

const columns = [
  "id",
  "event_id",
  "type",
  "queue_name",
  "job_id",
  "error",
  "failed_at",
  "retry_count",
  "redriven_at",
  "resolved_at",
] as const;

/** Oldest first: the order in which they need attention. */
export async function listDeadLetters(
  db: Kysely<Database>,
  { all, queue }: ListFilter,
): Promise<DeadLetterRow[]> {
  let query = db.selectFrom("webhook_dead_letters").select(columns);
  if (!all) query = query.where("resolved_at", "is", null);
  if (queue !== undefined) query = query.where("queue_name", "=", queue);
  return query.orderBy("failed_at").orderBy("id").execute();
}

export type ReplayableLetter = DeadLetterRow & { payload: unknown };

/** The letters of these event ids, open or not, or every open letter (of one queue). */
export async function findLetters(
  db: Kysely<Database>,
  target: { eventIds: readonly string[] } | { queue?: string | undefined },
): Promise<ReplayableLetter[]> {
  let query = db.selectFrom("webhook_dead_letters").select([...columns, "payload"]);
  if ("eventIds" in target) {
    if (target.eventIds.length === 0) return [];
    query = query.where("event_id", "in", target.eventIds);
  } else {
    query = query.where("resolved_at", "is", null);
    if (target.queue !== undefined) query = query.where("queue_name", "=", target.queue);
  }
  return query.orderBy("failed_at").orderBy("id").execute();
}

/**
 * A manual replay does not count as a re-drive here (retry_count is the re-drive's budget); it
 * restarts the re-drive's wait so the schedule does not spend a re-drive on a job just replayed.
 * If the replayed job fails for good again, the worker's dead-lettering counts that retry.
 */
export async function markReplayed(db: Kysely<Database>, id: number): Promise<void> {
  await db
    .updateTable("webhook_dead_letters")
    .set({ redriven_at: new Date() })
    .where("id", "=", id)
    .execute();
}
