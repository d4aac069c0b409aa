import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { admissionEmailKey } from "@fanfare-relay/emails/admission-granted";
import { sql } from "kysely";
import { admissionKey, mergeAdmissions, subjectOf } from "../admissions.ts";

export const admissionExpired: BatchHandler<"queue.admission_expired"> = {
  async applyBatch({ tx, events, cancelEmails, recordAnalytics }) {
    const admissions = await mergeAdmissions(
      tx,
      events.map(({ data }) => ({
        ...subjectOf(data),
        expiredAt: data.expiredAt,
      })),
    );
    // The batch holds the consumers' locks, which makes a mail the consumer worker queues
    // concurrently visible to this cancel.
    await cancelEmails(
      events.map(({ data }) => admissionEmailKey(data.experienceId, data.consumerId)),
    );
    for (const event of events) {
      const { consumerId, experienceId } = event.data;
      recordAnalytics(event, "admission_expired", { consumerId, experienceId });
    }
    // The held stock goes back on sale, unless the purchase went through (completion seen
    // first). One at a time, the first expiry releases it; a second finds it released.
    const releasing = new Map<string, { experienceId: string; consumerId: string; at: string }>();
    events.forEach(({ data }, index) => {
      const key = admissionKey(data.experienceId, data.consumerId);
      if (admissions[index]?.status !== "expired" || releasing.has(key)) return;
      releasing.set(key, { ...data, at: data.expiredAt });
    });
    if (releasing.size === 0) return;
    const released = sql.join(
      [...releasing.values()].map(
        (row) => sql`(${row.experienceId}::text, ${row.consumerId}::text, ${row.at}::timestamptz)`,
      ),
    );
    await sql`
      UPDATE reservations SET status = 'released', released_at = expiry.at
      FROM (VALUES ${released}) AS expiry (experience_id, consumer_id, at)
      WHERE reservations.experience_id = expiry.experience_id
        AND reservations.consumer_id = expiry.consumer_id
        AND reservations.status = 'held'`.execute(tx);
  },
};
