import { sql } from "kysely";
import type { BatchHandler } from "@fanfare-relay/worker/handler";
import { inRounds } from "@fanfare-relay/worker/rounds";
import { admissionKey } from "../admissions.ts";

export const consumerLeft: BatchHandler<"queue.consumer_left"> = {
  async applyBatch({ tx, events, recordAnalytics }) {
    const rounds = inRounds(events, (event) =>
      admissionKey(event.data.experienceId, event.data.consumerId),
    );
    // Left before entered (reordered delivery) still leaves one row with both facts.
    for (const round of rounds) {
      await tx
        .insertInto("queue_participants")
        .values(
          round.map(({ data }) => ({
            experience_id: data.experienceId,
            consumer_id: data.consumerId,
            distribution_id: data.distributionId ?? null,
            left_at: data.leftAt,
            left_reason: data.reason ?? null,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(["experience_id", "consumer_id"]).doUpdateSet((eb) => ({
            distribution_id: eb.fn.coalesce(
              "excluded.distribution_id",
              "queue_participants.distribution_id",
            ),
            // The latest exit's reason stands, whatever the arrival order.
            left_reason: sql<string | null>`CASE WHEN queue_participants.left_at IS NULL
              OR excluded.left_at >= queue_participants.left_at
              THEN excluded.left_reason ELSE queue_participants.left_reason END`,
            left_at: sql<Date>`GREATEST(excluded.left_at, queue_participants.left_at)`,
          })),
        )
        .execute();
    }
    for (const event of events) {
      const { consumerId, experienceId, reason } = event.data;
      recordAnalytics(event, "queue_left", { consumerId, experienceId, reason: reason ?? null });
    }
  },
};
