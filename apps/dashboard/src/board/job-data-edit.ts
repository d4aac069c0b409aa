import type { Database } from "@fanfare-relay/db/schema";
import { findUnstorableField } from "@fanfare-relay/events/envelope";
import { familyOfQueue } from "@fanfare-relay/events/families";
import { redactEmailAddresses } from "@fanfare-relay/logging/redact";
import { eventIdForJob } from "@fanfare-relay/queues/job-id";
import type { Job } from "bullmq";
import type { FastifyBaseLogger } from "fastify";
import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { DashboardError } from "../errors.ts";
import { jsonDiff, type JsonChange } from "./json-diff.ts";

/** Bull Board's body for PATCH …/:jobId/update-data (@bull-board/api 9.10.1, updateJobData). */
export const editBody = z.object({ jobData: z.record(z.string(), z.unknown()) });

/** Envelope fields that say which event this is: an edit may fix the payload, not swap events. */
const IDENTITY_FIELDS = ["id", "type"] as const;

export interface JobDataEdit {
  db: Kysely<Database>;
  job: Job;
  queueName: string;
  /** The dashboard user making the edit. */
  user: string;
  /** Bull Board's request body, not yet validated. */
  body: unknown;
  log: FastifyBaseLogger;
}

/** Longest failure reason copied onto an event row this inserts (the workers cap theirs alike). */
const MAX_ERROR_LENGTH = 2000;

/**
 * BullMQ answered that the job is gone (its updateData script found no key), or ioredis never
 * sent the command (the connection was down): in both cases the data was certainly not replaced.
 * Any other error (a reply lost on a dropped connection, a timeout) leaves it unknown.
 */
function certainlyNotWritten(error: unknown): "removed" | "unsent" | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith("Missing key for job")) return "removed";
  // ioredis with the offline queue off, on one node and on a cluster.
  if (message.includes("Stream isn't writeable") || message.includes("Cluster isn't ready")) {
    return "unsent";
  }
  return undefined;
}

/**
 * Replaces a FAILED job's data (the operator's fix for a payload the workers cannot apply), and
 * records the edit: one job_data_edits row (who, when, each changed field's path with its value
 * before and after), edited_at/edited_by on the event's webhook_events row, and a log line with
 * the changed paths only (email addresses redacted; never values: they hold personal data).
 *
 * The record is committed first and the new data written after it, so that no edit is ever made
 * without its record. If the data then certainly was not written (the job was removed meanwhile,
 * or Redis could not be reached), the record is taken back (the row deleted, the event row's
 * edited_at/edited_by set back to the latest remaining edit) and the answer is an error. If
 * whether it was written is unknown, the record is kept and logged as unconfirmed.
 *
 * The event row is inserted when the worker could not write it (failure bookkeeping is also done
 * later by the worker's reconciliation): a minimal `failed` row carrying the edit, which the
 * workers' own upserts then complete without clearing edited_at/edited_by.
 *
 * @returns the changes (empty when the new data equals the old: nothing is written)
 * @throws DashboardError DASHBOARD_ACTION_DISABLED (403) when the job is not failed,
 *   DASHBOARD_BAD_REQUEST (400) for a body that is not `{ jobData: {…} }` or that changes the
 *   event's id or type, DASHBOARD_INVALID_JOB_DATA (400, naming the field's path, never its
 *   value) for data that could not be stored (see findUnstorableField: NUL, a lone surrogate, a
 *   non-finite number, nesting deeper than the envelope allows), DASHBOARD_NOT_FOUND (404) when the job was removed before its data
 *   could be replaced, DASHBOARD_UNAVAILABLE (503) when Redis failed the write (the response
 *   says whether the edit was taken back or may have been made).
 */
export async function editFailedJobData(edit: JobDataEdit): Promise<JsonChange[]> {
  const { db, job, queueName, user, log } = edit;
  const parsed = editBody.safeParse(edit.body);
  if (!parsed.success) {
    throw new DashboardError("DASHBOARD_BAD_REQUEST", "expected a body { jobData: { … } }");
  }
  // Checked before anything is written: PostgreSQL would refuse the audit row (a 500 whose error
  // quotes the payload), and the workers the job, which the ingest never lets in.
  const unstorable = findUnstorableField(parsed.data.jobData);
  if (unstorable) {
    throw new DashboardError(
      "DASHBOARD_INVALID_JOB_DATA",
      `jobData${unstorable.path === "(root)" ? "" : `.${unstorable.path}`} ${unstorable.message}`,
    );
  }
  const state = await job.getState();
  if (state !== "failed") {
    throw new DashboardError(
      "DASHBOARD_ACTION_DISABLED",
      `only a failed job's data can be edited; this job is ${state}`,
    );
  }
  const before = job.data as unknown;
  const after = parsed.data.jobData;
  const beforeRecord = (typeof before === "object" && before !== null ? before : {}) as Record<
    string,
    unknown
  >;
  for (const field of IDENTITY_FIELDS) {
    if (!Object.is(beforeRecord[field], after[field])) {
      throw new DashboardError(
        "DASHBOARD_BAD_REQUEST",
        `the event's ${field} cannot be edited: it says which event this job applies`,
      );
    }
  }
  const changes = jsonDiff(before, after);
  if (changes.length === 0) return changes;

  const jobId = job.id ?? "";
  const eventId = eventIdForJob(jobId);
  const editedAt = new Date();
  const type = typeof after.type === "string" ? after.type : job.name;
  const editId = await db.transaction().execute(async (tx) => {
    const row = await tx
      .insertInto("job_data_edits")
      .values({
        event_id: eventId,
        queue_name: queueName,
        job_id: jobId,
        edited_by: user,
        edited_at: editedAt,
        changes: JSON.stringify(changes),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await tx
      .insertInto("webhook_events")
      .values({
        event_id: eventId,
        type,
        family: familyOfQueue(queueName),
        status: "failed",
        attempts: job.attemptsMade,
        event_created_at: null,
        last_error: redactEmailAddresses(job.failedReason).slice(0, MAX_ERROR_LENGTH),
        edited_at: editedAt,
        edited_by: user,
      })
      .onConflict((conflict) =>
        conflict.column("event_id").doUpdateSet({ edited_at: editedAt, edited_by: user }),
      )
      .execute();
    return row.id;
  });
  const logged = {
    user,
    queue: queueName,
    jobId,
    eventId: redactEmailAddresses(eventId),
    changedPaths: changes.map((change) => redactEmailAddresses(change.path)),
  };
  try {
    await job.updateData(after);
  } catch (error) {
    const notWritten = certainlyNotWritten(error);
    if (notWritten === undefined) {
      log.error(
        { ...logged, editId, err: error },
        "job data edit: Redis failed the write; it may have been made, so its record is kept",
      );
      throw new DashboardError(
        "DASHBOARD_UNAVAILABLE",
        "Redis failed to confirm the new data: the edit may have been made and is recorded; reload the job to check",
      );
    }
    await takeBackRecord(db, editId, eventId, logged, log);
    throw notWritten === "removed"
      ? new DashboardError(
          "DASHBOARD_NOT_FOUND",
          "the job was removed before its data could be replaced; nothing was edited",
        )
      : new DashboardError(
          "DASHBOARD_UNAVAILABLE",
          "Redis is unreachable: the job's data was not replaced and nothing was recorded",
        );
  }
  log.info(logged, "job data edited");
  return changes;
}

/**
 * Deletes the record of an edit that was not made, and sets the event row's edited_at/edited_by
 * back to its latest remaining edit (none: NULL). If PostgreSQL fails meanwhile the record stays,
 * claiming an edit that was not made: said in an error line naming the row.
 */
async function takeBackRecord(
  db: Kysely<Database>,
  editId: number,
  eventId: string,
  logged: Record<string, unknown>,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom("job_data_edits").where("id", "=", editId).execute();
      await sql`
        UPDATE webhook_events SET (edited_at, edited_by) = (
          SELECT edited_at, edited_by FROM job_data_edits
          WHERE event_id = ${eventId} ORDER BY edited_at DESC, id DESC LIMIT 1)
        WHERE event_id = ${eventId}`.execute(tx);
    });
    log.warn({ ...logged, editId }, "job data edit not made: its record was taken back");
  } catch (error) {
    log.error(
      { ...logged, editId, err: error },
      "job data edit not made, and its record could not be taken back: job_data_edits row editId claims it",
    );
  }
}
