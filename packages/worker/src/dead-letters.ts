import type { Database } from "@fanfare-relay/db/schema";
import { familyOfQueue } from "@fanfare-relay/events/families";
import { redactEmailAddresses } from "@fanfare-relay/logging/redact";
import { sql, type Kysely, type Transaction } from "kysely";
import { createHash } from "node:crypto";
import {
  isDataError,
  storableErrorText,
  storableKey,
  storablePayload,
  unstorablePayload,
  withoutNul,
} from "./storable.ts";
import { markEventDead, type EventHead } from "./webhook-events.ts";

export interface DeadLetterInput {
  eventId: string;
  type: string;
  queueName: string;
  jobId: string;
  payload: unknown;
  error: string;
  /** The event's family; by default the family whose queue `queueName` is. */
  family?: string;
  /** What is known of the event, for a `webhook_events` row this has to insert. */
  head?: EventHead;
  /** Attempts made, for a `webhook_events` row this has to insert; default 1. */
  attempts?: number;
  /** When the job failed for good; default now. */
  failedAt?: Date;
  /**
   * Times the job was retried after going dead before this failure (see dead-letterings.ts): an
   * operator's retry from the dashboard or the CLI counts in the letter's retry count as the
   * scheduled re-drive's does (which counts its own when it claims the letter). Unknown: the
   * count is left as it is.
   */
  retried?: number | undefined;
}

/**
 * One row per event, however often it dies: a retried or re-driven event that fails again updates
 * its row (error, failed at, retry count; open again) instead of adding one. In the same transaction the event is marked `dead` in
 * `webhook_events` (its row inserted if none was written). Never fails on the values themselves:
 * ids and types too long for an index are cut (with a hash), NUL is escaped, email addresses in
 * the error are redacted, and a payload jsonb refuses is kept as text (see storablePayload); if
 * PostgreSQL still refuses a value, the letter is written with the payload as text and the event
 * row with id, type and family only.
 */
export async function recordDeadLetter(
  db: Kysely<Database>,
  input: DeadLetterInput,
): Promise<void> {
  try {
    await writeDeadLetter(db, input, storablePayload(input.payload), false);
  } catch (refused) {
    if (!isDataError(refused)) throw refused;
    let json: string | undefined;
    try {
      json = JSON.stringify(input.payload);
    } catch {
      json = undefined;
    }
    const reason = `refused by PostgreSQL: ${storableErrorText(refused)}`;
    await writeDeadLetter(db, input, unstorablePayload(reason, json), true);
  }
}

async function writeDeadLetter(
  db: Kysely<Database>,
  input: DeadLetterInput,
  payload: string,
  minimal: boolean,
): Promise<void> {
  const failedAt = input.failedAt ?? new Date();
  const error = withoutNul(redactEmailAddresses(input.error));
  const eventId = storableKey(input.eventId);
  const jobId = withoutNul(input.jobId);
  const { retried } = input;
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("webhook_dead_letters")
      .values({
        event_id: eventId,
        type: storableKey(input.type),
        queue_name: input.queueName,
        job_id: jobId,
        payload,
        error,
        failed_at: failedAt,
        ...(retried === undefined ? {} : { retry_count: retried }),
      })
      .onConflict((conflict) =>
        conflict.column("event_id").doUpdateSet((eb) => ({
          error,
          failed_at: failedAt,
          queue_name: input.queueName,
          job_id: jobId,
          resolved_at: null,
          // Never lowered: the re-drive counts its retries before they run.
          ...(retried === undefined
            ? {}
            : {
                retry_count: eb.fn<number>("greatest", [
                  eb.ref("webhook_dead_letters.retry_count"),
                  eb.val(retried),
                ]),
              }),
        })),
      )
      .execute();
    await markEventDead(tx, {
      head: { ...(input.head ?? {}), id: input.eventId, type: input.type },
      family: input.family ?? familyOfQueue(input.queueName),
      error,
      attempts: input.attempts ?? 1,
      minimal,
    });
  });
}

/**
 * Called in the transaction that completes the events: whoever retried them, their letters are
 * resolved. One statement for the whole batch; nothing is sent for an empty list.
 */
export async function resolveDeadLetters(
  tx: Transaction<Database>,
  eventIds: readonly string[],
): Promise<void> {
  if (eventIds.length === 0) return;
  await tx
    .updateTable("webhook_dead_letters")
    .set({ resolved_at: new Date() })
    .where("event_id", "in", eventIds.map(storableKey))
    .where("resolved_at", "is", null)
    .execute();
}

/**
 * Which of these jobs of a queue have an open dead letter (the reconciliation's question).
 */
export async function jobsWithOpenLetters(
  db: Kysely<Database>,
  queueName: string,
  jobIds: readonly string[],
): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom("webhook_dead_letters")
    .select("job_id")
    .where("queue_name", "=", queueName)
    // Matches the (queue_name, md5(job_id)) index: job ids can be too long to index whole.
    .where(
      sql<string>`md5(job_id)`,
      "in",
      jobIds.map((id) => createHash("md5").update(withoutNul(id)).digest("hex")),
    )
    .where("resolved_at", "is", null)
    .execute();
  return new Set(rows.map((row) => row.job_id));
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
