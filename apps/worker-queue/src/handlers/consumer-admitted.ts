import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { readConsumerEmails } from "@fanfare-relay/worker/consumer-email";
import { admissionEmailKey, admissionGrantedEmail } from "@fanfare-relay/emails/admission-granted";
import { mergeAdmissions, subjectOf } from "../admissions.ts";

export const consumerAdmitted: BatchHandler<"queue.consumer_admitted"> = {
  async applyBatch({ tx, events, links, queueEmails, recordAnalytics }) {
    const admissions = await mergeAdmissions(
      tx,
      events.map(({ data }) => ({
        ...subjectOf(data),
        token: data.admissionToken,
        admittedAt: data.admittedAt,
        expiresAt: data.expiresAt,
        position: data.position,
        waitSeconds: data.waitTimeSeconds,
      })),
    );
    for (const event of events) {
      const { consumerId, experienceId, waitTimeSeconds } = event.data;
      recordAnalytics(event, "admission_granted", {
        consumerId,
        experienceId,
        waitTime: waitTimeSeconds ?? null,
      });
    }

    // No "you're in" mail for an admission already completed or expired, or whose window has
    // passed by the time we see it (a late retry): the link would no longer work.
    const now = Date.now();
    const owed = events.filter(
      (event, index) =>
        admissions[index]?.status === "active" && new Date(event.data.expiresAt).getTime() > now,
    );
    if (owed.length === 0) return;
    const emails = await readConsumerEmails(
      tx,
      owed.map((event) => event.data.consumerId),
    );
    await queueEmails(
      owed.flatMap((event) => {
        const { consumerId, experienceId, admissionToken, expiresAt } = event.data;
        const to = emails.get(consumerId);
        if (to === undefined) return [];
        const draft = admissionGrantedEmail({
          key: admissionEmailKey(experienceId, consumerId),
          to,
          shopUrl: links.shopUrl,
          token: admissionToken,
          expiresAt,
        });
        return [{ event, draft }];
      }),
    );
  },
};
