import type { EventHandler } from "@fanfare-relay/worker/handler";
import { lockConsumer } from "@fanfare-relay/worker/consumer-email";
import { admissionEmailKey } from "@fanfare-relay/emails/admission-granted";
import { mergeAdmission } from "../admissions.ts";

export const admissionExpired: EventHandler<"queue.admission_expired"> = async (context) => {
  const { tx, event } = context;
  const { consumerId, experienceId, expiredAt } = event.data;
  const admission = await mergeAdmission(tx, experienceId, consumerId, {
    distributionId: event.data.distributionId,
    expiredAt,
  });
  // The lock makes a mail the consumer worker queues concurrently visible to this cancel.
  await lockConsumer(tx, consumerId);
  await context.cancelEmail(admissionEmailKey(experienceId, consumerId));
  await context.recordAnalytics("admission_expired", { consumerId, experienceId });
  // The held stock goes back on sale, unless the purchase went through (completion seen first).
  if (admission.status !== "expired") return;
  await tx
    .updateTable("reservations")
    .set({ status: "released", released_at: expiredAt })
    .where("experience_id", "=", experienceId)
    .where("consumer_id", "=", consumerId)
    .where("status", "=", "held")
    .execute();
};
