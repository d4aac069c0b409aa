import { sql } from "kysely";
import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { admissionKey } from "../admissions.ts";

export const consumerEntered: BatchHandler<"queue.consumer_entered"> = {
  async applyBatch({ tx, events, recordAnalytics }) {
    const rounds = inRounds(events, (event) =>
      admissionKey(event.data.experienceId, event.data.consumerId),
    );
    for (const round of rounds) {
      await tx
        .insertInto("queue_participants")
        .values(
          round.map(({ data }) => ({
            experience_id: data.experienceId,
            consumer_id: data.consumerId,
            distribution_id: data.distributionId ?? null,
            position: data.position,
            entered_at: data.enteredAt,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
            distribution_id: eb.fn.coalesce(
              "excluded.distribution_id",
              "queue_participants.distribution_id",
            ),
            // A re-entry: the latest entry's position stands, whatever the arrival order.
            position: sql<number>`CASE WHEN queue_participants.entered_at IS NULL
              OR excluded.entered_at >= queue_participants.entered_at
              THEN excluded.position ELSE queue_participants.position END`,
            entered_at: sql<Date>`GREATEST(excluded.entered_at, queue_participants.entered_at)`,
          })),
        )
        .execute();
    }
    for (const event of events) {
      const { consumerId, experienceId, position } = event.data;
      recordAnalytics(event, "queue_entered", { consumerId, experienceId, position });
    }
  },
};
