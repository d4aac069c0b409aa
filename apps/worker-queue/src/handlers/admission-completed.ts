import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { admissionEmailKey } from "@fanfare-relay/emails/admission-granted";
import { mergeAdmissions, subjectOf } from "../admissions.ts";

export const admissionCompleted: BatchHandler<"queue.admission_completed"> = {
  async applyBatch({ tx, events, cancelEmails, recordAnalytics }) {
    await mergeAdmissions(
      tx,
      events.map(({ data }) => ({
        ...subjectOf(data),
        completedAt: data.completedAt,
        orderId: data.orderId,
      })),
    );
    // A "you're in" mail still waiting (SMTP outage) would now be stale. The batch holds the
    // consumers' locks, which makes a mail the consumer worker queues concurrently (their email
    // just arrived) visible to this cancel.
    await cancelEmails(
      events.map(({ data }) => admissionEmailKey(data.experienceId, data.consumerId)),
    );
    // Converted even if an expiry (delivered first) had released them: the order exists.
    await tx
      .updateTable("reservations")
      .set({ status: "converted", released_at: null })
      .where((eb) =>
        eb(
          eb.refTuple("experience_id", "consumer_id"),
          "in",
          events.map(({ data }) => eb.tuple(data.experienceId, data.consumerId)),
        ),
      )
      .where("status", "in", ["held", "released"])
      .execute();
    for (const event of events) {
      const { consumerId, experienceId, orderId } = event.data;
      recordAnalytics(event, "admission_converted", {
        consumerId,
        experienceId,
        orderId: orderId ?? null,
      });
    }
  },
};
