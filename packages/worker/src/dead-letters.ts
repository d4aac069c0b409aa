import type { Database } from "@fanfare-relay/db/schema";
import { sql, type Kysely, type Transaction } from "kysely";

export interface DeadLetterInput {
  eventId: string;
  type: string;
  queueName: string;
  jobId: string;
  payload: unknown;
  error: string;
}

/**
 * One row per event, however often it dies: a re-driven event that fails again updates its row
 * (and reopens it) instead of adding one.
 */
export async function recordDeadLetter(
  db: Kysely<Database>,
  input: DeadLetterInput,
): Promise<void> {
  const now = new Date();
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("webhook_dead_letters")
      .values({
        event_id: input.eventId,
        type: input.type,
        queue_name: input.queueName,
        job_id: input.jobId,
        payload: JSON.stringify(input.payload),
        error: input.error,
        failed_at: now,
      })
      .onConflict((conflict) =>
        conflict.column("event_id").doUpdateSet({
          error: input.error,
          failed_at: now,
          queue_name: input.queueName,
          job_id: input.jobId,
          resolved_at: null,
        }),
      )
      .execute();
    await tx
      .updateTable("webhook_events")
      .set({ status: "dead" })
      .where("event_id", "=", input.eventId)
      .where("status", "=", "failed")
      .execute();
  });
}

/** Called in the transaction that completes the event: whoever retried it, it is resolved. */
export async function resolveDeadLetter(tx: Transaction<Database>, eventId: string): Promise<void> {
  await tx
    .updateTable("webhook_dead_letters")
    .set({ resolved_at: new Date() })
    .where("event_id", "=", eventId)
    .where("resolved_at", "is", null)
    .execute();
}

export interface DueDeadLetter {
  id: number;
  event_id: string;
  type: string;
  job_id: string;
  payload: unknown;
  retry_count: number;
}

export interface ClaimDueOptions {
  queueName: string;
  /** Dead letters that failed (or were last re-driven) before this time are due. */
  before: Date;
  maxRedrives: number;
  limit: number;
}

/**
 * Takes the due dead letters and counts the re-drive in one statement: replicas running the same
 * schedule never re-drive one letter twice in a round (SKIP LOCKED), and a letter just re-driven is
 * not due again until the wait has passed once more.
 */
export async function claimDueDeadLetters(
  db: Kysely<Database>,
  { queueName, before, maxRedrives, limit }: ClaimDueOptions,
): Promise<DueDeadLetter[]> {
  const result = await sql<DueDeadLetter>`
    UPDATE webhook_dead_letters
    SET retry_count = retry_count + 1, redriven_at = now()
    WHERE id IN (
      SELECT id FROM webhook_dead_letters
      WHERE queue_name = ${queueName}
        AND resolved_at IS NULL
        AND retry_count < ${maxRedrives}
        AND GREATEST(failed_at, COALESCE(redriven_at, failed_at)) < ${before}
      ORDER BY failed_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id, event_id, type, job_id, payload, retry_count`.execute(db);
  return result.rows;
}
