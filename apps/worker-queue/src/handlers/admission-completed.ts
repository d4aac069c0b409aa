import type { EventHandler } from "@fanfare-relay/worker/handler";
import { lockConsumer } from "@fanfare-relay/worker/consumer-email";
import { admissionEmailKey } from "@fanfare-relay/emails/admission-granted";
import { mergeAdmission } from "../admissions.ts";

export const admissionCompleted: EventHandler<"queue.admission_completed"> = async (context) => {
  const { tx, event } = context;
  const { consumerId, experienceId, orderId, completedAt } = event.data;
  await mergeAdmission(tx, experienceId, consumerId, {
    distributionId: event.data.distributionId,
    completedAt,
    orderId,
  });
  // A "you're in" mail still waiting (SMTP outage) would now be stale. The lock makes a mail the
  // consumer worker queues concurrently (their email just arrived) visible to this cancel.
  await lockConsumer(tx, consumerId);
  await context.cancelEmail(admissionEmailKey(experienceId, consumerId));
  // Converted even if an expiry (delivered first) had released them: the order exists.
  await tx
    .updateTable("reservations")
    .set({ status: "converted", released_at: null })
    .where("experience_id", "=", experienceId)
    .where("consumer_id", "=", consumerId)
    .where("status", "in", ["held", "released"])
    .execute();
  await context.recordAnalytics("admission_converted", {
    consumerId,
    experienceId,
    orderId: orderId ?? null,
  });
};
