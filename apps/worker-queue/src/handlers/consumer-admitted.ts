import type { EventHandler } from "@fanfare-relay/worker/handler";
import { findConsumerEmail } from "@fanfare-relay/worker/consumer-email";
import { admissionEmailKey, admissionGrantedEmail } from "@fanfare-relay/emails/admission-granted";
import { mergeAdmission } from "../admissions.ts";

export const consumerAdmitted: EventHandler<"queue.consumer_admitted"> = async (context) => {
  const { tx, event, links } = context;
  const { consumerId, experienceId, admissionToken, expiresAt, waitTimeSeconds } = event.data;
  const admission = await mergeAdmission(tx, experienceId, consumerId, {
    distributionId: event.data.distributionId,
    token: admissionToken,
    admittedAt: event.data.admittedAt,
    expiresAt,
    position: event.data.position,
    waitSeconds: waitTimeSeconds,
  });
  await context.recordAnalytics("admission_granted", {
    consumerId,
    experienceId,
    waitTime: waitTimeSeconds ?? null,
  });

  // No "you're in" mail for an admission already completed or expired, or whose window has
  // passed by the time we see it (a late retry): the link would no longer work.
  if (admission.status !== "active" || new Date(expiresAt).getTime() <= Date.now()) return;
  const to = await findConsumerEmail(tx, consumerId);
  if (to === undefined) return;
  await context.queueEmail(
    admissionGrantedEmail({
      key: admissionEmailKey(experienceId, consumerId),
      to,
      shopUrl: links.shopUrl,
      token: admissionToken,
      expiresAt,
    }),
  );
};
