import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { subjectOf } from "../admissions.ts";
import { mergeParticipants } from "../participants.ts";

export const consumerEntered: BatchHandler<"queue.consumer_entered"> = {
  async applyBatch({ tx, events, recordAnalytics }) {
    await mergeParticipants(
      tx,
      events.map(({ data }) => ({
        ...subjectOf(data),
        entered: { position: data.position, at: data.enteredAt },
      })),
    );
    for (const event of events) {
      const { consumerId, experienceId, position } = event.data;
      recordAnalytics(event, "queue_entered", { consumerId, experienceId, position });
    }
  },
};
