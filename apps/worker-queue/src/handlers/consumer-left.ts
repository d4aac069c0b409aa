import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { subjectOf } from "../admissions.ts";
import { mergeParticipants } from "../participants.ts";

export const consumerLeft: BatchHandler<"queue.consumer_left"> = {
  async applyBatch({ tx, events, recordAnalytics }) {
    await mergeParticipants(
      tx,
      events.map(({ data }) => ({
        ...subjectOf(data),
        left: { at: data.leftAt, reason: data.reason ?? null },
      })),
    );
    for (const event of events) {
      const { consumerId, experienceId, reason } = event.data;
      recordAnalytics(event, "queue_left", { consumerId, experienceId, reason: reason ?? null });
    }
  },
};
