import type { Database } from "@fanfare-relay/db/schema";
import { redactEmailAddresses } from "@fanfare-relay/logging/redact";
import { eventIdForJob } from "@fanfare-relay/queues/job-id";
import type { Job } from "bullmq";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
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

/**
 * Replaces a FAILED job's data (the operator's fix for a payload the workers cannot apply), and
 * records the edit: one job_data_edits row (who, when, each changed field's path with its value
 * before and after), edited_at/edited_by on the event's webhook_events row, and a log line with
 * the changed paths only (email addresses redacted; never values: they hold personal data). The
 * new data is written last, inside the transaction that writes the rows: an edit whose record
 * cannot be written is not made.
 *
 * @returns the changes (empty when the new data equals the old: nothing is written)
 * @throws DashboardError DASHBOARD_ACTION_DISABLED (403) when the job is not failed,
 *   DASHBOARD_BAD_REQUEST (400) for a body that is not `{ jobData: {…} }` or that changes the
 *   event's id or type.
 */
export async function editFailedJobData(edit: JobDataEdit): Promise<JsonChange[]> {
  const { db, job, queueName, user, log } = edit;
  const parsed = editBody.safeParse(edit.body);
  if (!parsed.success) {
    throw new DashboardError("DASHBOARD_BAD_REQUEST", "expected a body { jobData: { … } }");
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
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto("job_data_edits")
      .values({
        event_id: eventId,
        queue_name: queueName,
        job_id: jobId,
        edited_by: user,
        edited_at: editedAt,
        changes: JSON.stringify(changes),
      })
      .execute();
    await tx
      .updateTable("webhook_events")
      .set({ edited_at: editedAt, edited_by: user })
      .where("event_id", "=", eventId)
      .execute();
    await job.updateData(after);
  });
  log.info(
    {
      user,
      queue: queueName,
      jobId,
      eventId: redactEmailAddresses(eventId),
      changedPaths: changes.map((change) => redactEmailAddresses(change.path)),
    },
    "job data edited",
  );
  return changes;
}
